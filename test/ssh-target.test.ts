// The Docker-host target over SSH: remote.Command against a real sshd on this
// machine (Debian's openssh-server), with keys the test generates.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./docker.js";
import { leftovers, testDeployment, testPorts, type TestDeployment } from "./deployment.js";

const execFileAsync = promisify(execFile);

describe("the Docker-host target over SSH", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-sshd-"));
  let sshd: ChildProcess;
  let port: number;
  let deployment: TestDeployment;

  beforeAll(async () => {
    for (const key of ["host_key", "client_key"]) await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, key)]);
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
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
    await eventually(() => new Promise<true | undefined>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => { socket.destroy(); resolve(true); });
      socket.on("error", () => resolve(undefined));
    }), 10_000, "sshd to listen");
    deployment = await testDeployment(
      { template: "small-storage", name: `remote${process.pid}`, team: "qa", options: { publicNetwork: false } },
      {
        target: {
          projectsDir: path.join(dir, "projects"),
          healthTimeoutSeconds: 240,
          ssh: { host: "127.0.0.1", port, user: os.userInfo().username, privateKey: fs.readFileSync(path.join(dir, "client_key"), "utf8") },
        },
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

  it("deploys through remote.Command and the system answers", { timeout: 300_000 }, async () => {
    const { endpoint, credentials } = await deployment.up();
    expect(endpoint.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    const identity = await eventually(async () => {
      const response = await fetch(`${endpoint.api}/api/v0/id`, { method: "POST", headers: { authorization: auth } });
      return response.ok ? ((await response.json()) as { ID: string }) : undefined;
    }, 30_000, "the Kubo API");
    expect(identity.ID).toMatch(/^12D3KooW/);
    // The project's files were written by the SSH session, on the target's side.
    expect(fs.existsSync(path.join(dir, "projects", deployment.project, "docker-compose.yml"))).toBe(true);
  });
});
