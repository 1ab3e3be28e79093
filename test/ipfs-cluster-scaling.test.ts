// Scaling ipfs-cluster-small 3 → 4 → 3 peers by Pulumi updates: pins made
// before keep their replication factor throughout, and the new peer serves them.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./docker.js";
import { leftovers, testDeployment, testPorts, type TestDeployment } from "./deploy.js";

interface PinStatus {
  cid: string;
  peer_map: Record<string, { peername: string; status: string }>;
}

describe("scaling ipfs-cluster-small", () => {
  let deployment: TestDeployment;
  let endpoint: Record<string, string>;
  let auth: string;
  const files = Array.from({ length: 4 }, () => `scaled ${crypto.randomUUID()}`);
  const cids: string[] = [];

  beforeAll(async () => {
    deployment = await testDeployment({ template: "ipfs-cluster-small", name: `scale${process.pid}`, team: "qa", options: { publicNetwork: false } });
    const outputs = await deployment.up();
    endpoint = outputs.endpoint;
    auth = `Basic ${Buffer.from(`${outputs.credentials.username}:${outputs.credentials.password}`).toString("base64")}`;
  }, 400_000);

  afterAll(async () => {
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 180_000);

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${endpoint.restApi}${path}`, { ...init, headers: { authorization: auth }, signal: AbortSignal.timeout(30_000) });
    const body = await response.text();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body}`);
    return body;
  };
  const pinnedCount = async (cid: string) => {
    const status = JSON.parse(await api(`/pins/${cid}`)) as PinStatus;
    return Object.values(status.peer_map).filter((p) => p.status === "pinned").length;
  };
  const allPinnedTwice = async () => (await Promise.all(cids.map(pinnedCount))).every((n) => n >= 2);

  /** Runs an update while sampling the pins; returns the samples where a pin was under replication-min. */
  async function updateWhileWatching(peers: number): Promise<string[]> {
    const violations: string[] = [];
    let updating = true;
    const watcher = (async () => {
      while (updating) {
        try {
          for (const cid of cids) {
            const n = await pinnedCount(cid);
            if (n < 2) violations.push(`${cid} pinned on ${n} peers`);
          }
        } catch {
          // The REST API restarts with its peer during an update; pins live in Kubo meanwhile.
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    const gatewayPorts = peers > 3 ? await testPorts([`gateway${peers - 1}`]) : {};
    const ports = Object.fromEntries(Object.entries({ ...deployment.args.ports, ...gatewayPorts }).filter(([name]) => name !== `gateway${peers}`));
    try {
      endpoint = (await deployment.up({ options: { peers, publicNetwork: false }, ports })).endpoint;
    } finally {
      updating = false;
      await watcher;
    }
    return violations;
  }

  it("pins files at replication-min or more before scaling", { timeout: 120_000 }, async () => {
    for (const content of files) {
      const form = new FormData();
      form.append("file", new Blob([content]), "f.txt");
      cids.push((JSON.parse((await api("/add?cid-version=1", { method: "POST", body: form })).trim().split("\n")[0]!) as { cid: string }).cid);
    }
    await eventually(async () => ((await allPinnedTwice()) ? true : undefined), 60_000, "every pin on 2 peers");
  });

  it("adds a 4th peer that joins the cluster and serves the pins", { timeout: 400_000 }, async () => {
    expect(await updateWhileWatching(4)).toEqual([]);
    const peers = (await api("/peers")).trim().split("\n").map((l) => (JSON.parse(l) as { peername: string }).peername);
    expect(peers.sort()).toEqual(["cluster0", "cluster1", "cluster2", "cluster3"]);
    for (const [i, cid] of cids.entries()) {
      const body = await eventually(async () => {
        const response = await fetch(`${endpoint.gateway3}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) });
        return response.ok ? response.text() : undefined;
      }, 60_000, "the new peer's gateway");
      expect(body).toBe(files[i]);
    }
    expect(await allPinnedTwice()).toBe(true);
  });

  it("removes the 4th peer after moving its pins", { timeout: 400_000 }, async () => {
    expect(await updateWhileWatching(3)).toEqual([]);
    // CRDT peers are those with live metrics: the removed one drops out when its last ping expires.
    const peerNames = async () => (await api("/peers")).trim().split("\n").map((l) => (JSON.parse(l) as { peername: string }).peername).sort();
    await eventually(async () => ((await peerNames()).join() === "cluster0,cluster1,cluster2" ? true : undefined), 60_000, "3 peers left");
    await eventually(async () => ((await allPinnedTwice()) ? true : undefined), 60_000, "every pin on 2 of the remaining peers");
  });
});
