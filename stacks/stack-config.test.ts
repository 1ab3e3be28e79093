// Every checked-in stack configuration is a valid request for its template.
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkCloudTarget, pickCloudTarget } from "../components/targets/cloud/index.js";
import { checkPorts, prepareRequest } from "../components/templates/index.js";
import { argsFromConfig, type StackConfig } from "./stack-config.js";

const dir = path.dirname(new URL(import.meta.url).pathname);
const samples = fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f));

function stackConfig(file: string): StackConfig {
  const { config } = parse(fs.readFileSync(path.join(dir, file), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^provisioner:/, ""), v])) as unknown as StackConfig;
}

describe("sample stack configurations", () => {
  it("has one per template family, and one on a cloud", () => {
    expect([...new Set(samples.map((f) => stackConfig(f).template))].sort()).toEqual([
      "ipfs-cluster-small",
      "medium-storage",
      "postgres-medium",
      "postgres-small",
    ]);
    expect(samples.filter((f) => pickCloudTarget(argsFromConfig(stackConfig(f), `organization/provisioner/${f}`)) !== undefined)).toEqual([
      "Pulumi.ipfs-cluster-hetzner-example.yaml",
    ]);
  });

  it.each(samples)("%s is a valid request with every port allocated", (file) => {
    const args = argsFromConfig(stackConfig(file), `organization/provisioner/${file}`, "KEY");
    const prepared = prepareRequest(args);
    expect(() => checkPorts(prepared, args.ports)).not.toThrow();
    expect(Object.keys(args.ports).sort()).toEqual([...prepared.portNames].sort());
    const cloud = pickCloudTarget(args);
    if (cloud) expect(() => checkCloudTarget(cloud, prepared, args.ports)).not.toThrow();
  });
});
