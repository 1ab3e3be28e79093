// The volume scripts run for real (this machine's shell, util-linux and Docker):
// an image of the size, mounted, grown without losing a file, removed; and a
// host without the tools says "not enforced" and gets plain Docker volumes.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ensureVolumesScript, parseVolumesStatus, removeVolumesLines, volumeDataDir, volumesDir } from "./volume-quota.js";

const execFileAsync = promisify(execFile);
const run = async (lines: string[], env: NodeJS.ProcessEnv = process.env) =>
  (await execFileAsync("sh", ["-c", ["set -eu", ...lines].join("\n")], { env })).stdout;

describe("storage quota scripts (real shell, mount and Docker)", () => {
  const projectsDir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-quota-"));
  const project = `r${crypto.randomBytes(6).toString("hex")}`;
  const plan = (sizesMb: Record<string, number>) => ({ project, projectsDir, labels: { "provisioner.project": project }, sizesMb });

  afterEach(async () => {
    const volumes = (await execFileAsync("docker", ["volume", "ls", "-q", "--filter", `label=provisioner.project=${project}`])).stdout;
    for (const v of volumes.split("\n").filter(Boolean)) await execFileAsync("docker", ["volume", "rm", "-f", v]);
    await run(removeVolumesLines(projectsDir, project));
  });

  it("limits a volume to its size, grows it keeping its files, and removes image and mount", async () => {
    const status = parseVolumesStatus(await run(ensureVolumesScript(plan({ data: 40 }))));
    expect(status).toMatchObject({ quota: "enforced", sizesMb: { data: 40 } });
    const data = volumeDataDir(projectsDir, project, "data");
    fs.writeFileSync(`${data}/kept`, "kept");
    // Writing past the size fails with ENOSPC, the host's disk untouched.
    await expect(run([`dd if=/dev/zero of=${data}/fill bs=1M count=80`])).rejects.toThrow(/No space left on device/);
    fs.rmSync(`${data}/fill`);
    // The Docker volume binds to the folder inside the mount.
    const device = (
      await execFileAsync("docker", ["volume", "inspect", "-f", '{{index .Options "device"}}', `${project}-data`])
    ).stdout.trim();
    expect(device).toBe(fs.realpathSync(data));

    const before = fs.statfsSync(path.dirname(data));
    expect(await run(ensureVolumesScript(plan({ data: 80 })))).toMatch(/volume data grown to 80 MB/);
    const after = fs.statfsSync(path.dirname(data));
    expect(after.blocks * after.bsize).toBeGreaterThan(1.8 * before.blocks * before.bsize);
    expect(fs.readFileSync(`${data}/kept`, "utf8")).toBe("kept");
    // Never shrunk, and a second run changes nothing.
    expect(await run(ensureVolumesScript(plan({ data: 40 })))).not.toMatch(/grown/);
    expect(fs.statfsSync(path.dirname(data)).blocks).toBe(after.blocks);

    // Unmounted (a reboot): the bind folder is gone, so nothing can write onto the host's disk; the next run mounts it again.
    await execFileAsync("umount", [path.dirname(data)]);
    expect(fs.existsSync(data)).toBe(false);
    await run(ensureVolumesScript(plan({ data: 80 })));
    expect(fs.readFileSync(`${data}/kept`, "utf8")).toBe("kept");

    await execFileAsync("docker", ["volume", "rm", `${project}-data`]);
    await run(removeVolumesLines(projectsDir, project));
    expect(fs.existsSync(volumesDir(projectsDir, project))).toBe(false);
    expect(fs.readFileSync("/proc/mounts", "utf8")).not.toContain(project);
  }, 60_000);

  it('a host without the tools to mount says "not enforced" and gets plain Docker volumes', async () => {
    // losetup and mkfs.ext4 live in /usr/sbin: without it on PATH the host "lacks" them.
    const status = parseVolumesStatus(await run(ensureVolumesScript(plan({ data: 40 })), { ...process.env, PATH: "/usr/bin:/bin" }));
    expect(status).toMatchObject({ quota: "not enforced", reason: expect.stringMatching(/lacks losetup/) });
    const options = (await execFileAsync("docker", ["volume", "inspect", "-f", "{{.Options}}", `${project}-data`])).stdout.trim();
    expect(options).not.toContain("device");
    expect(fs.readFileSync("/proc/mounts", "utf8")).not.toContain(project);
  }, 60_000);

  it("keeps a volume made before quotas (a plain Docker volume) as it is, and says so", async () => {
    await execFileAsync("docker", ["volume", "create", "--label", `provisioner.project=${project}`, `${project}-data`]);
    const status = parseVolumesStatus(await run(ensureVolumesScript(plan({ data: 40, other: 20 }))));
    expect(status).toMatchObject({ quota: "enforced", legacy: ["data"] });
    expect(fs.existsSync(`${volumesDir(projectsDir, project)}/data.img`)).toBe(false);
    expect(fs.existsSync(`${volumesDir(projectsDir, project)}/other.img`)).toBe(true);
  }, 60_000);

  it("names everything from the project, and refuses a volume name that is not a DNS label", () => {
    const script = ensureVolumesScript(plan({ data: 10 })).join("\n");
    expect(script).toContain(`${project}.volumes`);
    expect(() => ensureVolumesScript(plan({ "../x": 10 }))).toThrow(/not a DNS label/);
  });
});
