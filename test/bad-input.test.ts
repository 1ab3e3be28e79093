// Bad input through the real chain: the Pulumi program fails before creating
// anything, with an error naming the field, and leaves the stack unlocked.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStack } from "../automation/workspace.js";
import { TemplateSystem, type TemplateSystemArgs } from "../components/template-system.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { leftovers } from "./deployment.js";

describe("bad input to a real deployment", () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-bad-input-"));
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const valid: TemplateSystemArgs = {
    template: "small-storage",
    name: "ok",
    team: "qa",
    resourceId: "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9",
    ports: { api: 19990, gateway: 19991 },
    target: { projectsDir: path.join(workDir, "projects") },
  };

  it.each([
    ["an unknown template", { template: "mongodb" }, /template: unknown template/],
    ["an unknown size", { size: "xxl" }, /size: must be one of small, medium, large/],
    ["a name with spaces", { name: "my files" }, /name: must be a DNS label/],
    ["a name with ../", { name: "../etc" }, /name: must be a DNS label/],
    ["a name with ;", { name: "a;reboot" }, /name: must be a DNS label/],
    ["a 200-character name", { name: "a".repeat(200) }, /name: must be at most 40 characters/],
    ["a port missing from the allocation", { ports: { api: 19990 } }, /ports\.gateway: must be an allocated host port/],
  ])("when the request has %s, then up fails naming the field and creates nothing", { timeout: 60_000 }, async (_, change, message) => {
    const args = { ...valid, ...change };
    const stackName = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const stack = await openStack(
      { projectName: "provisioner-test", stackName, backendUrl: `file://${workDir}`, passphrase: "test" },
      () => {
        new TemplateSystem("bad", args);
        return Promise.resolve({});
      },
    );
    await expect(stack.up()).rejects.toThrow(message);
    const { deployment } = (await stack.exportStack()) as { deployment: { resources?: { type: string }[] } };
    const resources = deployment.resources;
    expect((resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))).toEqual([]);
    expect(await leftovers(hostNameOf(args.resourceId))).toEqual([]);
    // Not locked: another operation on the stack runs at once.
    await expect(stack.refresh()).resolves.toBeDefined();
  });
});
