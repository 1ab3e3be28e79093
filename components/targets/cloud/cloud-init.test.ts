// The cloud-init document, and Debian's `cloud-init schema` accepting it
// (apt package cloud-init; the bootstrap installs it for the tests).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { mountDataPath, mountDataScript, renderCloudInit, sshdHardening } from "./cloud-init.js";
import { testKeyPair } from "../../../test/cloud-mocks.js";

const execFileAsync = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-cloud-init-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const input = {
  authorizedKey: testKeyPair("provisioner").publicKey,
  hostKey: testKeyPair("host"),
  dataDevice: "/dev/disk/by-id/scsi-0HC_Volume_4242",
};

/** Runs `cloud-init schema` on the document; resolves to its output, rejects when it does not validate. */
async function validate(name: string, document: string): Promise<string> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, document);
  const { stdout, stderr } = await execFileAsync("cloud-init", ["schema", "--config-file", file]);
  return stdout + stderr;
}

describe("renderCloudInit", () => {
  const rendered = renderCloudInit(input);
  const document = parse(rendered) as Record<string, unknown>;

  it("is a cloud-config document", () => {
    expect(rendered.startsWith("#cloud-config\n")).toBe(true);
  });

  it("lets in only the deploy user, with the generated key, and installs the generated host key", () => {
    expect(document.users).toEqual([
      { name: "provisioner", shell: "/bin/bash", lock_passwd: true, ssh_authorized_keys: [input.authorizedKey] },
    ]);
    expect(document).toMatchObject({ disable_root: true, ssh_pwauth: false, ssh_deletekeys: true });
    expect(document.ssh_keys).toEqual({ ed25519_private: input.hostKey.privateKey, ed25519_public: input.hostKey.publicKey });
    const files = document.write_files as { path: string; content: string }[];
    expect(files.find((f) => f.path === "/etc/ssh/sshd_config.d/90-provisioner.conf")!.content).toBe(sshdHardening);
    expect(sshdHardening).toContain("PermitRootLogin no\nPasswordAuthentication no\n");
    expect(sshdHardening).toContain("AllowUsers provisioner\n");
  });

  it("mounts the data volume before installing Docker onto it, and writes the ready file last", () => {
    const files = document.write_files as { path: string; content: string }[];
    expect(JSON.parse(files.find((f) => f.path === "/etc/docker/daemon.json")!.content)).toMatchObject({
      "data-root": "/srv/provisioner/docker",
    });
    expect(files.find((f) => f.path === mountDataPath)!.content).toBe(mountDataScript);
    const runcmd = document.runcmd as (string | string[])[];
    expect(runcmd[0]).toEqual([mountDataPath, input.dataDevice, "/srv/provisioner"]);
    expect(runcmd[2]).toMatch(/apt-get .* install -y --no-install-recommends docker\.io docker-compose /);
    expect(runcmd.at(-1)).toEqual(["install", "-D", "-m", "0644", "/dev/null", "/var/lib/provisioner/ready"]);
  });

  it("passes Debian's `cloud-init schema`", async () => {
    expect(await validate("user-data.yaml", rendered)).toContain("Valid cloud-config");
  });

  it("and `cloud-init schema` does reject a broken document (the check is real)", async () => {
    await expect(validate("broken.yaml", rendered.replace("disable_root: true", "disable_root: sometimes"))).rejects.toThrow(
      /disable_root/,
    );
  });
});

describe("the data volume's mount script", () => {
  it("is valid POSIX sh", async () => {
    const file = path.join(dir, "mount.sh");
    fs.writeFileSync(file, mountDataScript);
    await execFileAsync("sh", ["-n", file]);
  });
});
