// A minor upgrade of ipfs-cluster-small by a Pulumi update (versions: a Kubo and
// an ipfs-cluster patch release): the nodes roll one at a time, and every pin
// stays pinned on at least replication-min peers, sampled each second.
// The "newer" releases are this machine's images tagged again (docker tag), so
// no download is needed; the test removes only the tags it made.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveImages } from "../components/images.js";
import { imagesWith, versionOf } from "../components/versions.js";
import { docker, eventually } from "./docker.js";
import { clusterClient, type PinStatus } from "./ipfs-cluster-client.js";
import { deployForSuite } from "./suite.js";

const images = resolveImages();
/** The next patch release of an image's version: 0.39.0 → 0.39.1. */
const nextPatch = (image: string) => {
  const [major, minor, patch] = versionOf(image)!.split(".").map(Number);
  return `${major}.${minor ?? 0}.${(patch ?? 0) + 1}`;
};
const versions = { kubo: nextPatch(images.kubo), ipfsCluster: nextPatch(images.ipfsCluster) };
const upgraded = imagesWith(images, versions);

describe("upgrading ipfs-cluster-small to patch releases", () => {
  const madeTags: string[] = [];
  beforeAll(async () => {
    for (const name of ["kubo", "ipfsCluster"] as const) {
      const exists = await docker("image", "inspect", upgraded[name]).then(
        () => true,
        () => false,
      );
      if (exists) continue;
      await docker("tag", images[name], upgraded[name]);
      madeTags.push(upgraded[name]);
    }
  });
  // After the suite's own afterAll (registered later, run first) has removed the containers.
  afterAll(async () => {
    for (const tag of madeTags) await docker("rmi", tag);
  });

  const suite = deployForSuite({
    template: "ipfs-cluster-small",
    name: `upgrade${process.pid}`,
    team: "qa",
    options: { publicNetwork: false },
  });
  const cluster = clusterClient(suite);
  const files = Array.from({ length: 4 }, () => `upgraded ${crypto.randomUUID()}`);

  /**
   * The pins each peer holds, by its own account (`status --local`): a peer
   * that just restarted does not yet see the others, so no single peer's view
   * of the whole cluster can be trusted while nodes roll. A peer whose
   * container is down, or whose API is not up yet (ipfs-cluster-ctl's answer
   * is then an error, not a status), holds none: counted against the pins.
   */
  async function pinnedOn(peer: number, cids: string[]): Promise<Set<string>> {
    const out = await docker(
      "exec",
      `${suite.deployment.project}-cluster${peer}`,
      "sh",
      "-c",
      // One JSON document per line: ipfs-cluster-ctl indents its output.
      `for cid in "$@"; do CLUSTER_CREDENTIALS="$CLUSTER_RESTAPI_BASICAUTHCREDENTIALS" ipfs-cluster-ctl --force-http --enc json status --local "$cid" | tr -d '\\n'; echo; done`,
      "sh",
      ...cids,
    ).catch(() => "");
    const statuses = out.split("\n").flatMap((line) => {
      try {
        const status = JSON.parse(line) as Partial<PinStatus>;
        return status.peer_map ? [status as PinStatus] : [];
      } catch {
        return [];
      }
    });
    const pinned = statuses.filter((status) => Object.values(status.peer_map).some((p) => p.status === "pinned"));
    return new Set(pinned.map((status) => status.cid));
  }
  /** How many peers hold each pin. */
  async function replicas(cids: string[]): Promise<number[]> {
    const held = await Promise.all([0, 1, 2].map((peer) => pinnedOn(peer, cids)));
    return cids.map((cid) => held.filter((pins) => pins.has(cid)).length);
  }

  it("rolls one node at a time to the new images; every pin keeps replication-min, sampled each second", { timeout: 900_000 }, async () => {
    const cids: string[] = [];
    for (const content of files) cids.push(await cluster.add(content));
    const allOnTwo = async () => ((await replicas(cids)).every((n) => n >= 2) ? true : undefined);
    await eventually(allOnTwo, 60_000, "every pin on 2 peers");

    const violations: string[] = [];
    let samples = 0;
    let missed = 0;
    let updating = true;
    const watcher = (async () => {
      while (updating) {
        const started = Date.now();
        try {
          const counts = await replicas(cids);
          counts.forEach((n, i) => {
            if (n < 2) violations.push(`${new Date().toISOString()} ${cids[i]} pinned on ${n} peers`);
          });
          samples++;
        } catch {
          missed++;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
      }
    })();
    const started = Date.now();
    try {
      suite.endpoint = (await suite.deployment.up({ versions })).endpoint;
    } finally {
      updating = false;
      await watcher;
    }
    const seconds = (Date.now() - started) / 1000;
    expect(violations).toEqual([]);
    // About one sample a second throughout (a sample of 4 pins may take longer on a loaded machine).
    expect(samples).toBeGreaterThan(seconds / 4);
    expect(missed).toBeLessThan(samples / 4);

    for (let i = 0; i < 3; i++) {
      expect(await docker("inspect", "-f", "{{.Config.Image}}", `${suite.deployment.project}-ipfs${i}`)).toBe(upgraded.kubo);
      expect(await docker("inspect", "-f", "{{.Config.Image}}", `${suite.deployment.project}-cluster${i}`)).toBe(upgraded.ipfsCluster);
    }
    expect(await cluster.peerNames()).toEqual(["cluster0", "cluster1", "cluster2"]);
    await eventually(allOnTwo, 60_000, "every pin on 2 peers after the upgrade");
    const response = await fetch(`${suite.endpoint.gateway}/ipfs/${cids[0]}`, { signal: AbortSignal.timeout(20_000) });
    expect(await response.text()).toBe(files[0]);
  });
});
