// ipfs-cluster-small for real: 3 Kubo nodes + 3 cluster peers, used through
// the REST API, every gateway, ipfs-cluster-ctl and the Pinning Service API.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { expressions, loadDashboards } from "../grafana/dashboards.js";
import { docker, eventually } from "./docker.js";
import { hardeningTests } from "./hardening.js";
import { basicAuth, deployForSuite } from "./suite.js";
import { clusterClient, type PinStatus } from "./ipfs-cluster-client.js";

const execFileAsync = promisify(execFile);

describe("ipfs-cluster-small on the local Docker host", () => {
  const suite = deployForSuite({
    template: "ipfs-cluster-small",
    name: `files${process.pid}`,
    team: "qa",
    options: { publicNetwork: false },
  });
  const cluster = clusterClient(suite);
  const onTwoPeers = (cid: string) => async () => ((await cluster.pinnedPeers(cid)).length >= 2 ? true : undefined);

  it("lists its 3 peers", async () => {
    expect(await cluster.peerNames()).toEqual(["cluster0", "cluster1", "cluster2"]);
  });

  // Each test adds a file of its own: none relies on another having run.
  const pinned = async (content: string) => {
    const cid = await cluster.add(content);
    await eventually(onTwoPeers(cid), 60_000, "the pin to reach 2 peers");
    return cid;
  };

  it("pins a file added through the REST API on at least replication-min peers", { timeout: 120_000 }, async () => {
    const cid = await cluster.add(`cluster ${crypto.randomUUID()}`);
    await eventually(onTwoPeers(cid), 60_000, "the pin to reach 2 peers");
  });

  it("serves the file through every Kubo gateway", { timeout: 200_000 }, async () => {
    const content = `gateways ${crypto.randomUUID()}`;
    const cid = await pinned(content);
    for (const gateway of [suite.endpoint.gateway0, suite.endpoint.gateway1, suite.endpoint.gateway2]) {
      const body = await eventually(
        async () => {
          const response = await fetch(`${gateway}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) });
          return response.ok ? response.text() : undefined;
        },
        60_000,
        `${gateway} to serve the file`,
      );
      expect(body).toBe(content);
    }
  });

  it("shows the same through ipfs-cluster-ctl, the official client", { timeout: 120_000 }, async () => {
    const cid = await pinned(`ctl ${crypto.randomUUID()}`);
    const { port } = new URL(suite.endpoint.restApi!);
    const { stdout } = await execFileAsync("ipfs-cluster-ctl", [
      "--host",
      `/ip4/127.0.0.1/tcp/${port}`,
      "--basic-auth",
      `${suite.credentials.username}:${suite.credentials.password}`,
      "--force-http",
      "--enc",
      "json",
      "status",
      cid,
    ]);
    const status = JSON.parse(stdout) as PinStatus;
    const peers = Object.values(status.peer_map)
      .filter((p) => p.status === "pinned")
      .map((p) => p.peername);
    expect(peers.sort()).toEqual((await cluster.pinnedPeers(cid)).sort());
  });

  it("takes a pin made with `ipfs pin remote` through the Pinning Service API", { timeout: 180_000 }, async () => {
    const tokenResponse = await fetch(`${suite.endpoint.pinningServiceApi}/token`, {
      method: "POST",
      headers: { authorization: basicAuth(suite.credentials) },
    });
    expect(tokenResponse.status).toBe(200);
    const { token } = (await tokenResponse.json()) as { token: string };
    // Kubo's own remote-pinning client, in a cluster node, pointing at the service by its network name.
    const kubo = `${suite.deployment.project}-ipfs1`;
    const other = `pinned remotely ${crypto.randomUUID()}`;
    const otherCid = await docker("exec", kubo, "sh", "-c", `printf '%s' '${other}' | ipfs add -Q --cid-version=1`);
    await docker("exec", kubo, "ipfs", "pin", "remote", "service", "add", "cluster", "http://cluster0:9097", token);
    await docker("exec", kubo, "ipfs", "pin", "remote", "add", "--service=cluster", "--name=remote-test", otherCid);
    await eventually(onTwoPeers(otherCid), 90_000, "the remote pin to be pinned in the cluster");
  });

  // The IPFS dashboard's Kubo panels: a node with peers exports every metric they name (a misspelled one fails here).
  it("exports every Kubo metric the IPFS dashboard names", { timeout: 120_000 }, async () => {
    const named = [
      ...new Set(expressions(loadDashboards().ipfs!).flatMap(({ expr }) => [...expr.matchAll(/\b(ipfs_[a-z0-9_]+)\{/g)].map((m) => m[1]!))),
    ];
    expect(named).toContain("ipfs_p2p_peers_total");
    const missing = await eventually(
      async () => {
        const exported = await (await fetch(`${suite.endpoint.metrics}/ipfs0/debug/metrics/prometheus`)).text();
        const absent = named.filter((metric) => !new RegExp(`^${metric}[{ ]`, "m").test(exported));
        return absent.length === 0 ? absent : undefined;
      },
      60_000,
      `ipfs0 to export ${named.join(", ")}`,
    );
    expect(missing).toEqual([]);
  });

  it("when one Kubo node is stopped, the load-balanced gateway still serves a pinned file", { timeout: 200_000 }, async () => {
    const content = `balanced ${crypto.randomUUID()}`;
    const cid = await pinned(content);
    const read = async () => {
      const response = await fetch(`${suite.endpoint.gateway}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) });
      return { status: response.status, body: await response.text() };
    };
    await eventually(async () => ((await read()).status === 200 ? true : undefined), 60_000, "the balanced gateway to serve the file");
    const node = `${suite.deployment.project}-ipfs0`;
    await docker("stop", node);
    try {
      // More requests than nodes: the balancer takes the nodes in turn, so the stopped one's turn comes up.
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await read());
      expect(answers).toEqual(Array.from({ length: 6 }, () => ({ status: 200, body: content })));
    } finally {
      await docker("start", node);
    }
  });

  it("when a REST call has no credentials, then it gets 401", async () => {
    expect((await fetch(`${suite.endpoint.restApi}/peers`)).status).toBe(401);
  });

  hardeningTests(suite);
});
