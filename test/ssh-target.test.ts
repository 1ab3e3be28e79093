// The Docker-host target over SSH: remote.Command against a real sshd on this
// machine (Debian's openssh-server), through the code path every cloud target
// uses (cloudServerTarget: address + generated key + pinned host key + ready
// file), with the client key made by the clouds' ssh-keygen script.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudServerTarget } from "../components/targets/cloud/index.js";
import { splitKeyPair, sshKeygenScript } from "../components/targets/cloud/ssh-key.js";
import { eventually } from "./docker.js";
import { leftovers, testDeployment, testPorts, type TestDeployment } from "./deployment.js";

const execFileAsync = promisify(execFile);

describe("the Docker-host target over SSH", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-sshd-"));
  let sshd: ChildProcess;
  let port: number;
  let deployment: TestDeployment;
  const readyFile = path.join(dir, "ready");

  beforeAll(async () => {
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    const client = splitKeyPair((await execFileAsync("sh", ["-c", sshKeygenScript("ssh-target-test")])).stdout);
    fs.writeFileSync(path.join(dir, "authorized_keys"), `${client.publicKey}\n`);
    const hostKey = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    port = (await testPorts(["ssh"])).ssh!;
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${dir}/host_key`,
        `AuthorizedKeysFile ${dir}/authorized_keys`,
        `PidFile ${dir}/sshd.pid`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
      ].join("\n") + "\n",
    );
    fs.mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege-separation directory
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    // Listening before the deployment allocates its ports, so they cannot collide.
    await eventually(
      () =>
        new Promise<true | undefined>((resolve) => {
          const socket = net.connect({ host: "127.0.0.1", port }, () => {
            socket.destroy();
            resolve(true);
          });
          socket.on("error", () => resolve(undefined));
        }),
      10_000,
      "sshd to listen",
    );
    deployment = await testDeployment(
      { template: "small-storage", name: `remote${process.pid}`, team: "qa", options: { publicNetwork: false } },
      {
        target: cloudServerTarget({
          host: "127.0.0.1",
          port,
          user: os.userInfo().username,
          privateKey: client.privateKey,
          hostKey,
          projectsDir: path.join(dir, "projects"),
          readyFile,
          healthTimeoutSeconds: 240,
        }),
        // The SSH host is this machine, with no firewall: its ports stay on loopback.
        publishIp: "127.0.0.1",
      },
    );
  }, 60_000);

  afterAll(async () => {
    if (deployment) {
      await deployment.destroy();
      expect(await leftovers(deployment.project)).toEqual([]);
    }
    sshd?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("waits for the host's ready file, deploys through remote.Command, and the system answers", { timeout: 300_000 }, async () => {
    const composeFile = path.join(dir, "projects", deployment.project, "docker-compose.yml");
    const deployed = deployment.up();
    deployed.catch(() => undefined); // awaited below; not unhandled meanwhile
    // The deploy step, over SSH, is waiting for the file (as for cloud-init on a new server) ...
    await eventually(
      async () => ((await processArgs()).some((args) => args.includes(`until [ -e '${readyFile}' ]`)) ? true : undefined),
      120_000,
      "the deploy step to wait for the ready file",
    );
    // ... and has written nothing yet.
    expect(fs.existsSync(composeFile)).toBe(false);
    fs.writeFileSync(readyFile, "");
    const { endpoint, credentials } = await deployed;
    expect(endpoint.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    const identity = await eventually(
      async () => {
        const response = await fetch(`${endpoint.api}/api/v0/id`, { method: "POST", headers: { authorization: auth } });
        return response.ok ? ((await response.json()) as { ID: string }) : undefined;
      },
      30_000,
      "the Kubo API",
    );
    expect(identity.ID).toMatch(/^12D3KooW/);
    // The project's files were written by the SSH session, on the target's side.
    expect(fs.existsSync(composeFile)).toBe(true);
  });
});

/** The command lines of this machine's processes. */
async function processArgs(): Promise<string[]> {
  const { stdout } = await execFileAsync("ps", ["-eo", "args"], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n");
}
