import { describe, expect, it } from "vitest";
import { prepareRequest, templates } from "../../templates/index.js";
import { capacityNeeds, chooseServerType, dataVolumeGb, serverTypes } from "./server-types.js";

const prepared = (template: string, size: string, options?: unknown) =>
  prepareRequest({ template, name: "r", team: "t", size, options, resourceId: "0b7e4f8a-1c2d-4e3f-9a0b-1c2d3e4f5a6b" });

describe("capacityNeeds", () => {
  it.each([
    // template, size, options, vCPUs, memory MB (containers' limits + 1024 for the host)
    ["small-storage", "small", undefined, 1, 1024 + 1024],
    ["large-storage", "large", undefined, 2, 4096 + 1024],
    // The server (2 vCPUs) is the largest limit; PgBouncer 256 MB, backups 256 MB.
    ["postgres-small", "small", undefined, 2, 4096 + 256 + 256 + 1024],
    // Primary and replica 4 vCPUs / 16 GB each, PgBouncer 512 MB: half of 9.5 CPUs, rounded up.
    ["postgres-medium", "medium", undefined, 5, 2 * 16384 + 512 + 256 + 1024],
    // Per node: Kubo 0.5 CPU / 1 GB, its cluster peer 0.25 / 256 MB.
    ["ipfs-cluster-small", "small", undefined, 2, 3 * (1024 + 256) + 1024],
    ["ipfs-cluster-small", "large", { peers: 5 }, 8, 5 * (4096 + 1024) + 1024],
  ])("%s %s %j needs %d vCPUs and %d MB", (template, size, options, vcpus, memoryMb) => {
    expect(capacityNeeds(prepared(template, size, options))).toEqual({ vcpus, memoryMb });
  });
});

describe("chooseServerType", () => {
  it.each([
    ["hetzner", 1, 1536, "cx23"],
    ["hetzner", 2, 4096, "cx23"],
    ["hetzner", 2, 4097, "cx33"],
    ["hetzner", 10, 21504, "cx53"],
    ["hetzner", 5, 34560, "ccx43"],
    ["digitalocean", 5, 34560, "g-16vcpu-64gb"],
    ["aws", 5, 34560, "m6i.4xlarge"],
    ["digitalocean", 1, 1536, "s-1vcpu-2gb"],
    ["digitalocean", 2, 7168, "s-4vcpu-8gb"],
    ["aws", 1, 1920, "t3.small"],
    ["aws", 3, 4096, "t3.xlarge"],
  ] as const)("%s: %d vCPUs, %d MB -> %s", (cloud, vcpus, memoryMb, type) => {
    expect(chooseServerType(cloud, { vcpus, memoryMb })).toBe(type);
  });

  it("names the size when nothing is big enough", () => {
    expect(() => chooseServerType("aws", { vcpus: 33, memoryMb: 1024 })).toThrow(/^size: no aws server type has 33 vCPUs and 1024 MB/);
  });

  it("lists each catalogue smallest first", () => {
    for (const types of Object.values(serverTypes)) {
      expect([...types].sort((a, b) => a.memoryMb - b.memoryMb || a.vcpus - b.vcpus)).toEqual(types);
    }
  });
});

describe("dataVolumeGb", () => {
  it.each([
    ["small-storage", "large", undefined, 15],
    ["medium-storage", "small", undefined, 35],
    ["large-storage", "small", undefined, 110],
    ["ipfs-cluster-small", "small", undefined, 10 + 3 * 10],
    ["ipfs-cluster-small", "medium", { peers: 4 }, 10 + 4 * 50],
    ["postgres-small", "small", undefined, 10 + 2 * 10],
    ["postgres-medium", "medium", undefined, 10 + 4 * 50],
  ])("%s %s %j: %d GB", (template, size, options, gb) => {
    expect(dataVolumeGb(prepared(template, size, options))).toBe(gb);
  });

  it("has a size for every template in the catalogue", () => {
    for (const id of Object.keys(templates)) expect(dataVolumeGb(prepared(id, "small"))).toBeGreaterThan(10);
  });
});
