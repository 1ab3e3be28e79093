// Scaling ipfs-cluster-small 3 → 4 → 3 peers by Pulumi updates: pins made
// before keep their replication factor throughout, and the new peer serves them.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually } from "./docker.js";
import { testPorts } from "./deployment.js";
import { deployForSuite } from "./suite.js";
import { clusterClient, watchReplication } from "./ipfs-cluster-client.js";

describe("scaling ipfs-cluster-small", () => {
  const suite = deployForSuite({
    template: "ipfs-cluster-small",
    name: `scale${process.pid}`,
    team: "qa",
    options: { publicNetwork: false },
  });
  const cluster = clusterClient(suite);
  const files = Array.from({ length: 4 }, () => `scaled ${crypto.randomUUID()}`);
  const cids: string[] = [];
  const allOnTwoPeers = async () => {
    expect(cids).toHaveLength(files.length);
    return (await Promise.all(cids.map((cid) => cluster.pinnedPeers(cid)))).every((p) => p.length >= 2) ? true : undefined;
  };

  /** Runs an update to `peers` peers while sampling the pins (watchReplication). */
  async function updateWhileWatching(peers: number): Promise<{ violations: string[]; samples: number }> {
    const { ports } = suite.deployment.args;
    const newGateway = peers > 3 ? await testPorts([`gateway${peers - 1}`]) : {};
    const allocation = Object.fromEntries(Object.entries({ ...ports, ...newGateway }).filter(([name]) => name !== `gateway${peers}`));
    return watchReplication(cluster, cids, 2, async () => {
      suite.endpoint = (await suite.deployment.up({ options: { peers, publicNetwork: false }, ports: allocation })).endpoint;
    });
  }

  // One test: each step starts from where the previous one left the cluster.
  it(
    "scales 3 → 4 → 3 peers: pins keep replication-min throughout, the 4th peer serves them, and leaves after moving them",
    { timeout: 900_000 },
    async () => {
      for (const content of files) cids.push(await cluster.add(content));
      await eventually(allOnTwoPeers, 60_000, "every pin on 2 peers");

      const growing = await updateWhileWatching(4);
      expect(growing.violations).toEqual([]);
      expect(growing.samples).toBeGreaterThan(0);
      expect(await cluster.peerNames()).toEqual(["cluster0", "cluster1", "cluster2", "cluster3"]);
      for (const [i, cid] of cids.entries()) {
        const body = await eventually(
          async () => {
            const response = await fetch(`${suite.endpoint.gateway3}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) });
            return response.ok ? response.text() : undefined;
          },
          // Generous: under the suite's load the new node's first fetch over bitswap once took over a minute.
          180_000,
          "the new peer's gateway",
        );
        expect(body).toBe(files[i]);
      }
      expect(await allOnTwoPeers()).toBe(true);

      const shrinking = await updateWhileWatching(3);
      expect(shrinking.violations).toEqual([]);
      expect(shrinking.samples).toBeGreaterThan(0);
      // CRDT peers are those with live metrics: the removed one drops out when its last ping expires.
      await eventually(
        async () => ((await cluster.peerNames()).join() === "cluster0,cluster1,cluster2" ? true : undefined),
        60_000,
        "3 peers left",
      );
      await eventually(allOnTwoPeers, 60_000, "every pin on 2 of the remaining peers");
    },
  );
});
