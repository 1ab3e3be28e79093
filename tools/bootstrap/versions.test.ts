// The Go wrapper modules must build the versions the npm SDKs expect.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commandPluginVersion, pulumiVersion } from "./pulumi.js";
import { repoRoot } from "./paths.js";

const read = (...p: string[]) => fs.readFileSync(path.join(repoRoot, ...p), "utf8");

describe("tool versions", () => {
  it("builds the Pulumi CLI at the version of the @pulumi/pulumi SDK", () => {
    const goMod = read("tools", "go", "pulumi", "go.mod");
    expect(goMod).toContain(`github.com/pulumi/pulumi/pkg/v3 v${pulumiVersion}\n`);
    expect(goMod).toContain(`github.com/pulumi/pulumi/sdk/v3 v${pulumiVersion}\n`);
  });

  it("reports the plugin version the @pulumi/command SDK requests", () => {
    const main = read("tools", "go", "pulumi", "cmd", "pulumi-resource-command", "main.go");
    expect(main).toContain(`const pluginVersion = "${commandPluginVersion}"`);
  });
});
