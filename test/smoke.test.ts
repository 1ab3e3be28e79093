// The chain the product stands on, with no mocks: the Automation API drives the
// Pulumi CLI and the command provider plugin, and the Kubo image runs on the
// Docker engine.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as command from "@pulumi/command";
import { afterAll, describe, expect, it } from "vitest";
import { openStack } from "../automation/workspace.js";
import { resolveImages } from "../components/images.js";
import { docker, eventually, publishedPort } from "./docker.js";

describe("smoke: Automation API + Pulumi CLI + command provider", () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-smoke-"));
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it("runs up then destroy of an inline program with a local.Command", { timeout: 180_000 }, async () => {
    const marker = path.join(workDir, "created-by-command.txt");
    const token = crypto.randomBytes(8).toString("hex");
    const program = () => {
      const cmd = new command.local.Command("marker", {
        create: `printf '%s' "$TOKEN" > "${marker}" && echo created`,
        delete: `rm "${marker}"`,
        environment: { TOKEN: token },
      });
      return Promise.resolve({ stdout: cmd.stdout });
    };
    const backend = path.join(workDir, "state");
    fs.mkdirSync(backend);
    const stack = await openStack(
      { projectName: "smoke", stackName: "smoke", backendUrl: `file://${backend}`, passphrase: "smoke-test" },
      program,
    );

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.stdout?.value).toBe("created");
    expect(fs.readFileSync(marker, "utf8")).toBe(token);

    const destroy = await stack.destroy();
    expect(destroy.summary.result).toBe("succeeded");
    expect(fs.existsSync(marker)).toBe(false);
    // The file backend keeps lock files under .pulumi/locks while an operation runs.
    const locks = path.join(backend, ".pulumi", "locks");
    const lockFiles = fs.existsSync(locks) ? fs.readdirSync(locks, { recursive: true }).filter((f) => String(f).endsWith(".json")) : [];
    expect(lockFiles).toEqual([]);
  });
});

describe("smoke: the Kubo image on the Docker engine", () => {
  const name = `provisioner-smoke-kubo-${process.pid}`;
  afterAll(async () => {
    await docker("rm", "-f", "-v", name).catch(() => undefined);
  });

  it("answers POST /api/v0/id with its peer identity", { timeout: 120_000 }, async () => {
    const image = resolveImages().kubo;
    await docker("run", "-d", "--name", name, "--label", "provisioner.test=smoke", "-p", "127.0.0.1::5001", image);
    const port = await publishedPort(name, "5001/tcp");
    const identity = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/v0/id`, { method: "POST", signal: AbortSignal.timeout(3000) });
        return response.ok ? ((await response.json()) as { ID: string; AgentVersion: string }) : undefined;
      },
      90_000,
      "the Kubo RPC API",
    );
    expect(identity.ID).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(identity.AgentVersion).toMatch(/^kubo\/0\.39\.0/);
  });
});
