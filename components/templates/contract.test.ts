// Every template of the catalogue implements the whole contract (template.ts):
// a new template that forgets a part fails here, not in production.
import { describe, expect, it } from "vitest";
import { buildSystem, prepareRequest, sizeLimits, sizeOf, templateSize, templates } from "./index.js";
import { sizeNames } from "./sizes.js";
import { healthProbes, optionsJsonSchema, type Template } from "./template.js";

const images = { kubo: "kubo:t", ipfsCluster: "cluster:t", postgres: "postgres:t", pgbouncer: "pgbouncer:t" };
const resourceId = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";

/** The template's system with its default options and placeholder ports and secrets. */
function built(template: Template) {
  const prepared = prepareRequest({ template: template.id, name: "contract", team: "t", resourceId });
  const ports = Object.fromEntries(prepared.portNames.map((name, i) => [name, 20000 + i]));
  const secrets = Object.fromEntries(Object.entries(prepared.secretSizes).map(([name, bytes]) => [name, "ab".repeat(bytes)]));
  return { prepared, ports, ...buildSystem(prepared, { ports, secrets, images, publishIp: "127.0.0.1", publicHost: "host.example" }) };
}

describe.each(Object.entries(templates))("template %s", (id, template: Template) => {
  it("is catalogued under its own id, with every size specified in its own file, growing with the size, and a default among them", () => {
    expect(template.id).toBe(id);
    expect(template.description.length).toBeGreaterThan(10);
    expect(Object.keys(template.sizes).sort()).toEqual([...sizeNames].sort());
    expect(sizeNames).toContain(template.defaultSize);
    expect(template.sizeUnit.length).toBeGreaterThan(5);
    let previous = { cpus: 0, memoryMb: 0, storageGb: 0 };
    for (const size of sizeNames) {
      const spec = sizeOf(template, size);
      expect(spec).toBe(template.sizes[size]);
      expect(templateSize(id, size)).toEqual(spec);
      expect(spec.cpus).toBeGreaterThan(previous.cpus);
      expect(spec.memoryMb).toBeGreaterThan(previous.memoryMb);
      expect(spec.storageGb).toBeGreaterThanOrEqual(previous.storageGb);
      expect(spec.storageGb).toBeGreaterThan(0);
      previous = spec;
    }
    expect(() => templateSize(id, "huge")).toThrow(/size: must be one of small, medium, large/);
  });

  it("gives its main service the size's limits at every size, and caps every container at the host's CPUs when told", () => {
    for (const size of sizeNames) {
      const prepared = prepareRequest({ template: template.id, name: "contract", team: "t", resourceId, size });
      const ports = Object.fromEntries(prepared.portNames.map((name, i) => [name, 20000 + i]));
      const secrets = Object.fromEntries(Object.entries(prepared.secretSizes).map(([name, bytes]) => [name, "ab".repeat(bytes)]));
      const inputs = { ports, secrets, images, publishIp: "127.0.0.1", publicHost: "host.example" };
      const spec = template.sizes[size];
      const limits = Object.values(buildSystem(prepared, inputs).model.services).map((s) => s.limits);
      expect(limits).toContainEqual({ cpus: spec.cpus, memoryMb: spec.memoryMb });
      const capped = Object.values(buildSystem(prepared, { ...inputs, hostCpus: 1 }).model.services).map((s) => s.limits);
      expect(capped.map((l) => l.cpus)).toEqual(limits.map((l) => Math.min(l.cpus, 1)));
      expect(capped.map((l) => l.memoryMb)).toEqual(limits.map((l) => l.memoryMb));
      expect(sizeLimits(prepared, 1)).toEqual(
        spec.cpus > 1 ? { ...spec, cpus: 1, requested: spec.cpus, capped: "host has 1 CPU" } : { ...spec },
      );
    }
  });

  it("declares its options once: defaults parse, and the published JSON Schema is a closed object of the same properties", () => {
    const defaults = template.options.parse({}) as Record<string, unknown>;
    const schema = optionsJsonSchema(template) as { type: string; additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema).toMatchObject({ type: "object", additionalProperties: false });
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(defaults).sort());
    expect(template.options.safeParse({ notAnOption: 1 }).success).toBe(false);
  });

  it("builds a system whose every declared port is published and whose outputs name where to connect", () => {
    const { prepared, ports, model, outputs } = built(template);
    expect(new Set(prepared.portNames).size).toBe(prepared.portNames.length);
    const published = Object.values(model.services).flatMap((s) => (s.ports ?? []).map((p) => p.host));
    expect(published.sort()).toEqual(Object.values(ports).sort());
    for (const bytes of Object.values(prepared.secretSizes)) expect(bytes).toBeGreaterThanOrEqual(16);
    expect(Object.keys(outputs.endpoint).length).toBeGreaterThan(0);
    expect(Object.keys(outputs.credentials).length).toBeGreaterThan(0);
  });

  it("says how much data volume a cloud server needs at every size", () => {
    const { prepared } = built(template);
    for (const size of sizeNames) expect(template.dataGb(template.sizes[size], prepared.options)).toBeGreaterThan(0);
  });

  it("names a health probe the health monitor has (no template is healthy by default)", () => {
    expect(healthProbes).toContain(template.healthProbe);
  });

  it("lists its scrape targets from its own endpoint, each an address that is one of the endpoint's", () => {
    const { outputs } = built(template);
    const addresses = Object.values(outputs.endpoint).map((url) => url.replace(/^http:\/\//, ""));
    for (const target of template.scrapeTargets(outputs.endpoint)) {
      expect(addresses).toContain(target.address);
      expect(target.path).toMatch(/^\//);
    }
    expect(template.scrapeTargets({})).toEqual([]);
  });

  it("offers a managed service only of a kind the cloud targets implement", () => {
    if (template.managedService) expect(template.managedService.engine).toBe("postgresql");
  });
});
