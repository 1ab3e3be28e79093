// Which version changes a PATCH may make, and the image references they give.
import { describe, expect, it } from "vitest";
import type { ImageSet } from "./images.js";
import { checkVersions, currentVersions, imagesWith, versionSchemaPattern } from "./versions.js";

const images: ImageSet = {
  kubo: "ipfs/kubo:v0.39.0",
  ipfsCluster: "provisioner.local/ipfs-cluster:v1.1.6",
  postgres: "postgres:15",
  pgbouncer: "edoburu/pgbouncer:v1.24.1-p1",
};

describe("image versions", () => {
  it("reads what a resource runs from its images' tags, unless it was moved", () => {
    expect(currentVersions("ipfs-cluster-small", images, {})).toEqual({ kubo: "0.39.0", ipfsCluster: "1.1.6" });
    expect(currentVersions("ipfs-cluster-small", images, { kubo: "0.39.2" })).toEqual({ kubo: "0.39.2", ipfsCluster: "1.1.6" });
    expect(currentVersions("postgres-small", images, {})).toEqual({ postgres: "15" });
  });

  it("takes newer patch releases of Kubo and ipfs-cluster and newer PostgreSQL minors", () => {
    expect(checkVersions("ipfs-cluster-small", images, {}, { kubo: "v0.39.1", ipfsCluster: "1.1.7" })).toEqual({
      kubo: "0.39.1",
      ipfsCluster: "1.1.7",
    });
    expect(checkVersions("postgres-small", images, {}, { postgres: "15.8" })).toEqual({ postgres: "15.8" });
    expect(checkVersions("postgres-small", images, { postgres: "15.8" }, { postgres: "15.10" })).toEqual({ postgres: "15.10" });
    // The same version again changes nothing.
    expect(checkVersions("small-storage", images, {}, { kubo: "0.39.0" })).toEqual({ kubo: "0.39.0" });
  });

  it.each([
    ["ipfs-cluster-small", {}, { kubo: "0.40.0" }, /^versions\.kubo: must be a patch release of the same major\.minor \(runs 0\.39\.0\)/],
    ["ipfs-cluster-small", {}, { ipfsCluster: "2.0.0" }, /^versions\.ipfsCluster: must be a patch release/],
    ["ipfs-cluster-small", { ipfsCluster: "1.1.7" }, { ipfsCluster: "1.1.6" }, /^versions\.ipfsCluster: must not be older than 1\.1\.7/],
    ["postgres-small", {}, { postgres: "16.1" }, /^versions\.postgres: must be a minor release of the same major \(runs 15\)/],
    ["postgres-medium", { postgres: "15.8" }, { postgres: "15.7" }, /^versions\.postgres: must not be older than 15\.8/],
    ["postgres-small", {}, { kubo: "0.39.1" }, /^versions\.kubo: is not an image of this template; one of postgres/],
    ["small-storage", {}, { kubo: "latest" }, /^versions\.kubo: must be a version/],
  ])("refuses %s moving %j to %j, naming the field", (template, chosen, requested, message) => {
    expect(() => checkVersions(template, images, chosen, requested)).toThrow(message);
  });

  it("admits in the schema only versions of the default images' major (Kubo, ipfs-cluster: major.minor)", () => {
    const admitted = (image: "kubo" | "ipfsCluster" | "postgres") =>
      ["0.39.1", "v0.39.12", "0.40.0", "1.1.7", "1.2.0", "15", "15.8", "16.1", "latest"].filter((v) =>
        new RegExp(versionSchemaPattern(image)).test(v),
      );
    expect(admitted("kubo")).toEqual(["0.39.1", "v0.39.12"]);
    expect(admitted("ipfsCluster")).toEqual(["1.1.7"]);
    expect(admitted("postgres")).toEqual(["15", "15.8"]);
  });

  it("names the images of the versions in the same repositories, tagged as before", () => {
    expect(imagesWith(images, { kubo: "0.39.1", postgres: "15.8" })).toEqual({
      ...images,
      kubo: "ipfs/kubo:v0.39.1",
      postgres: "postgres:15.8",
    });
    expect(imagesWith({ ipfsCluster: "registry:5000/ipfs-cluster:v1.1.6" }, { ipfsCluster: "1.1.7" })).toEqual({
      ipfsCluster: "registry:5000/ipfs-cluster:v1.1.7",
    });
    expect(imagesWith(images, undefined)).toEqual(images);
  });
});
