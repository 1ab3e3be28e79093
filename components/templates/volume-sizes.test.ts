import { describe, expect, it } from "vitest";
import { prepareRequest } from "./index.js";
import { volumeSizesGb, volumeSizesMb } from "./volume-sizes.js";

const request = (template: string, size?: string, options?: unknown) =>
  prepareRequest({ template, name: "n", team: "t", size, options, resourceId: "00000000-0000-4000-8000-000000000000" });

describe("volume sizes: each data volume gets its share of the template's dataGb", () => {
  it.each([
    ["small-storage", "small", ["ipfs-data"], { "ipfs-data": 5 }],
    ["large-storage", "small", ["ipfs-data"], { "ipfs-data": 100 }],
    // The backups are in the backup store, outside the resource's volumes (postgres-backup.ts).
    ["postgres-small", "small", ["pgdata"], { pgdata: 10 }],
    ["postgres-small", "medium", ["pgdata"], { pgdata: 25 }],
    ["postgres-medium", "small", ["pgdata", "replica-data"], { pgdata: 25, "replica-data": 25 }],
    [
      "ipfs-cluster-small",
      "small",
      ["ipfs0-data", "cluster0-data", "ipfs1-data", "cluster1-data", "ipfs2-data", "cluster2-data"],
      { "ipfs0-data": 10, "cluster0-data": 1, "ipfs1-data": 10, "cluster1-data": 1, "ipfs2-data": 10, "cluster2-data": 1 },
    ],
  ])("%s (%s)", (template, size, volumes, expected) => {
    expect(volumeSizesGb(request(template, size), volumes)).toEqual(expected);
  });

  it("in MB, scaled down by the tests' MB per GB", () => {
    expect(volumeSizesMb(request("small-storage"), ["ipfs-data"])).toEqual({ "ipfs-data": 5120 });
    expect(volumeSizesMb(request("small-storage"), ["ipfs-data"], 24)).toEqual({ "ipfs-data": 120 });
  });
});
