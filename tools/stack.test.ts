// `npm run stack` as an engineer runs it (the tool itself): the checked-in
// postgres-small-example stack up through the Automation API, psql through its
// PgBouncer, then destroy leaves nothing behind.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { docker } from "../test/docker.js";
import { psql } from "../test/postgres-client.js";
import { workspacesOf } from "./stack-files.js";
import { freePort } from "../test/net.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const sample = parse(fs.readFileSync(path.join(repoRoot, "stacks", "Pulumi.postgres-small-example.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};

describe("npm run stack", () => {
  // Its own backend and projects folder; the sample's port replaced by a free one
  // (-c, as `pulumi up -c` does): other work on this Docker host may hold 19010.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-stack-cli-"));
  const projectsDir = path.join(root, "projects");
  const backendUrl = `file://${path.join(root, "state")}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_BACKEND_URL: backendUrl };
  const stack = (...args: string[]) =>
    execFileAsync(process.execPath, ["--import", "tsx", "tools/stack.ts", ...args, "-s", "postgres-small-example"], {
      cwd: repoRoot,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  const labels = [
    "--filter",
    `label=provisioner.team=${String(sample.config["provisioner:team"])}`,
    "--filter",
    `label=provisioner.resource=${String(sample.config["provisioner:name"])}`,
  ];
  const leftovers = async () =>
    [
      await docker("ps", "-aq", ...labels),
      await docker("volume", "ls", "-q", ...labels),
      await docker("network", "ls", "-q", ...labels),
    ].join("");

  afterAll(async () => {
    await stack("destroy").catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(workspacesOf(backendUrl), { recursive: true, force: true });
  });

  it(
    "up deploys the sample's database, which psql reaches with the stack's credentials; destroy removes everything",
    { timeout: 300_000 },
    async () => {
      const port = await freePort();
      const overrides = ["-c", `ports=${JSON.stringify({ pgbouncer: port })}`, "-c", `projectsDir=${projectsDir}`];
      const up = await stack("up", ...overrides);
      expect(up.stdout).toContain("stack postgres-small-example");
      expect(up.stdout).toMatch(/Resources:\s+\+ \d+ created/);
      expect(up.stdout).toContain('"credentials": "[secret]"');

      const shown = await stack("output", "--show-secrets");
      const outputs = JSON.parse(shown.stdout.slice(shown.stdout.indexOf("{"))) as {
        endpoint: Record<string, string>;
        credentials: Record<string, string>;
      };
      expect(outputs.endpoint).toMatchObject({ port: String(port) });
      expect(await psql(outputs.endpoint, outputs.credentials, "SELECT current_user")).toBe(outputs.credentials.username);
      expect(await leftovers()).not.toBe("");

      const destroyed = await stack("destroy", ...overrides);
      expect(destroyed.stdout).toMatch(/Resources:\s+- \d+ deleted/);
      expect(await leftovers()).toBe("");
      expect(fs.readdirSync(projectsDir)).toEqual([]);
      expect((await stack("output")).stdout).toContain("outputs:\n{}");
    },
  );

  it(
    "reads secure values that `pulumi config set --secret` wrote into the stack file, with the same passphrase only",
    { timeout: 120_000 },
    async () => {
      // A stack file of its own beside the samples, removed at the end.
      const name = `secure-test-${process.pid}`;
      const file = path.join(repoRoot, "stacks", `Pulumi.${name}.yaml`);
      fs.copyFileSync(path.join(repoRoot, "stacks", "Pulumi.postgres-small-example.yaml"), file);
      const run = (args: string[], passphrase = env.PULUMI_CONFIG_PASSPHRASE) =>
        execFileAsync(process.execPath, ["--import", "tsx", "tools/stack.ts", ...args, "-s", name], {
          cwd: repoRoot,
          env: { ...env, PULUMI_CONFIG_PASSPHRASE: passphrase },
        });
      try {
        await run(["preview"]); // creates the stack, as `pulumi stack init` would
        // The engineers' way of adding a secret (the value on stdin, not in `ps`).
        const set = execFile("pulumi", ["config", "set", "--secret", "provisioner:sshPrivateKey", "-s", name], { cwd: repoRoot, env });
        set.stdin!.end("not-a-real-key");
        await new Promise((resolve, reject) =>
          set.on("exit", (code) => (code === 0 ? resolve(code) : reject(new Error(`pulumi config set: exit ${code}`)))),
        );
        expect(fs.readFileSync(file, "utf8")).toMatch(/provisioner:sshPrivateKey:\s+secure: v1:/);

        expect((await run(["preview"])).stdout).toMatch(/\+ \d+ to create/);
        await expect(run(["preview"], "another-passphrase-0123")).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/passphrase/i),
        });
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
  );

  it("when the stack file does not exist, then it names the stacks there and exits 2", async () => {
    await expect(
      execFileAsync(process.execPath, ["--import", "tsx", "tools/stack.ts", "up", "-s", "nope"], { cwd: repoRoot, env }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("postgres-small-example"),
    });
  });
});
