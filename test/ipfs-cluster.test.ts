// ipfs-cluster-small for real: 3 Kubo nodes + 3 cluster peers, used through
// the REST API, every gateway, ipfs-cluster-ctl and the Pinning Service API.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, eventually } from "./docker.js";
import { leftovers, testDeployment, type TestDeployment } from "./deploy.js";

const execFileAsync = promisify(execFile);

/** ipfs-cluster's REST API streams lists as newline-delimited JSON. */
function ndjson<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

interface PinStatus {
  cid: string;
  peer_map: Record<string, { peername: string; status: string }>;
}

describe("ipfs-cluster-small on the local Docker host", () => {
  let deployment: TestDeployment;
  let endpoint: Record<string, string>;
  let credentials: Record<string, string>;
  let auth: string;

  beforeAll(async () => {
    deployment = await testDeployment({ template: "ipfs-cluster-small", name: `files${process.pid}`, team: "qa", options: { publicNetwork: false } });
    ({ endpoint, credentials } = await deployment.up());
    auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  }, 400_000);

  afterAll(async () => {
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 180_000);

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${endpoint.restApi}${path}`, { ...init, headers: { authorization: auth, ...init.headers }, signal: AbortSignal.timeout(30_000) });

  const pinnedPeers = async (cid: string) => {
    const status = (await (await api(`/pins/${cid}`)).json()) as PinStatus;
    return Object.values(status.peer_map).filter((p) => p.status === "pinned").map((p) => p.peername);
  };

  it("lists its 3 peers", async () => {
    const peers = ndjson<{ peername: string; error: string }>(await (await api("/peers")).text());
    expect(peers.map((p) => p.peername).sort()).toEqual(["cluster0", "cluster1", "cluster2"]);
    expect(peers.every((p) => !p.error)).toBe(true);
  });

  let cid: string;
  const content = `cluster ${crypto.randomUUID()}`;

  it("pins a file added through the REST API on at least replication-min peers", { timeout: 120_000 }, async () => {
    const form = new FormData();
    form.append("file", new Blob([content]), "hello.txt");
    const response = await api("/add?cid-version=1", { method: "POST", body: form });
    const body = await response.text();
    expect(response.status, body).toBe(200);
    const added = ndjson<{ cid: string }>(body);
    cid = added[0]!.cid;
    const peers = await eventually(async () => {
      const pinned = await pinnedPeers(cid);
      return pinned.length >= 2 ? pinned : undefined;
    }, 60_000, "the pin to reach 2 peers");
    expect(peers.length).toBeGreaterThanOrEqual(2);
  });

  it("serves the file through every Kubo gateway", { timeout: 120_000 }, async () => {
    for (const gateway of [endpoint.gateway0, endpoint.gateway1, endpoint.gateway2]) {
      const body = await eventually(async () => {
        const response = await fetch(`${gateway}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) });
        return response.ok ? response.text() : undefined;
      }, 60_000, `${gateway} to serve the file`);
      expect(body).toBe(content);
    }
  });

  it("shows the same through ipfs-cluster-ctl, the official client", async () => {
    const { port } = new URL(endpoint.restApi!);
    const { stdout } = await execFileAsync("ipfs-cluster-ctl", [
      "--host", `/ip4/127.0.0.1/tcp/${port}`,
      "--basic-auth", `${credentials.username}:${credentials.password}`,
      "--force-http",
      "--enc", "json",
      "status", cid,
    ]);
    const status = JSON.parse(stdout) as PinStatus;
    const pinned = Object.values(status.peer_map).filter((p) => p.status === "pinned").map((p) => p.peername);
    expect(pinned.sort()).toEqual((await pinnedPeers(cid)).sort());
  });

  it("takes a pin made with `ipfs pin remote` through the Pinning Service API", { timeout: 180_000 }, async () => {
    const tokenResponse = await fetch(`${endpoint.pinningServiceApi}/token`, { method: "POST", headers: { authorization: auth } });
    expect(tokenResponse.status).toBe(200);
    const { token } = (await tokenResponse.json()) as { token: string };
    // Kubo's own remote-pinning client, in a cluster node, pointing at the service by its network name.
    const kubo = `${deployment.project}-ipfs1`;
    const other = `pinned remotely ${crypto.randomUUID()}`;
    const otherCid = (await docker("exec", kubo, "sh", "-c", `printf '%s' '${other}' | ipfs add -Q --cid-version=1`)).trim();
    await docker("exec", kubo, "ipfs", "pin", "remote", "service", "add", "cluster", "http://cluster0:9097", token);
    await docker("exec", kubo, "ipfs", "pin", "remote", "add", "--service=cluster", "--name=remote-test", otherCid);
    const pinned = await eventually(async () => {
      const peers = await pinnedPeers(otherCid);
      return peers.length >= 2 ? peers : undefined;
    }, 90_000, "the remote pin to be pinned in the cluster");
    expect(pinned.length).toBeGreaterThanOrEqual(2);
  });

  it("when a REST call has no credentials, then it gets 401", async () => {
    const response = await fetch(`${endpoint.restApi}/peers`);
    expect(response.status).toBe(401);
  });
});
