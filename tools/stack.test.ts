// `npm run stack` as an engineer runs it (the tool itself): the checked-in
// postgres-small-example stack up through the Automation API, psql through its
// PgBouncer, then destroy leaves nothing behind.
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { docker } from "../test/docker.js";
import { psql } from "../test/postgres-client.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const sample = parse(fs.readFileSync(path.join(repoRoot, "stacks", "Pulumi.postgres-small-example.yaml"), "utf8")) as { config: Record<string, unknown> };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe("npm run stack", () => {
  // Its own backend and projects folder; the sample's port replaced by a free one
  // (-c, as `pulumi up -c` does): other work on this Docker host may hold 19010.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-stack-cli-"));
  const projectsDir = path.join(root, "projects");
  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(root, "state")}` };
  const stack = (...args: string[]) => execFileAsync(process.execPath, ["--import", "tsx", "tools/stack.ts", ...args, "-s", "postgres-small-example"], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 });
  const labels = ["--filter", `label=provisioner.team=${String(sample.config["provisioner:team"])}`, "--filter", `label=provisioner.resource=${String(sample.config["provisioner:name"])}`];
  const leftovers = async () => [await docker("ps", "-aq", ...labels), await docker("volume", "ls", "-q", ...labels), await docker("network", "ls", "-q", ...labels)].join("");

  afterAll(async () => {
    await stack("destroy").catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("up deploys the sample's database, which psql reaches with the stack's credentials; destroy removes everything", { timeout: 300_000 }, async () => {
    const port = await freePort();
    const overrides = ["-c", `ports=${JSON.stringify({ pgbouncer: port })}`, "-c", `projectsDir=${projectsDir}`];
    const up = await stack("up", ...overrides);
    expect(up.stdout).toContain("stack postgres-small-example");
    expect(up.stdout).toMatch(/Resources:\s+\+ \d+ created/);
    expect(up.stdout).toContain('"credentials": "[secret]"');

    const shown = await stack("output", "--show-secrets");
    const outputs = JSON.parse(shown.stdout.slice(shown.stdout.indexOf("{"))) as { endpoint: Record<string, string>; credentials: Record<string, string> };
    expect(outputs.endpoint).toMatchObject({ port: String(port) });
    expect(await psql(outputs.endpoint, outputs.credentials, "SELECT current_user")).toBe(outputs.credentials.username);
    expect(await leftovers()).not.toBe("");

    const destroyed = await stack("destroy", ...overrides);
    expect(destroyed.stdout).toMatch(/Resources:\s+- \d+ deleted/);
    expect(await leftovers()).toBe("");
    expect(fs.readdirSync(projectsDir)).toEqual([]);
    expect((await stack("output")).stdout).toContain("outputs:\n{}");
  });

  it("when the stack file does not exist, then it names the stacks there and exits 2", async () => {
    await expect(execFileAsync(process.execPath, ["--import", "tsx", "tools/stack.ts", "up", "-s", "nope"], { cwd: repoRoot, env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("postgres-small-example"),
    });
  });
});
