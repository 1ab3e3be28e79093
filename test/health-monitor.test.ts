// The health monitor against a real cluster, through the real service: a
// stopped Kubo node makes the resource DEGRADED naming it; started again, the
// resource is ACTIVE again. Short interval (2 s) through the configuration.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { leftovers } from "./deployment.js";
import { docker } from "./docker.js";
import { client, waitForOperation, waitForStatus, type Client } from "./service-client.js";

const intervalSeconds = 2;
const scrapeToken = crypto.randomBytes(24).toString("hex");

describe("the health monitor, on a real ipfs-cluster-small", () => {
  let server: TestServer;
  let api: Client;
  let teamName: string;
  let id: string | undefined;
  const name = `hm${process.pid}`;
  // Host-side names derive from the resource id.
  const project = () => hostNameOf(id!);

  beforeAll(async () => {
    server = await startTestServer(
      { HEALTH_CHECK_INTERVAL_SECONDS: String(intervalSeconds), PROVISIONER_SCRAPE_TOKEN: scrapeToken },
      { runWorker: false },
    );
    server.service.worker!.start();
    server.service.health.start();
    teamName = `h${crypto.randomBytes(3).toString("hex")}`;
    api = client(server.base, (await new TeamService(server.service.db).create(teamName, "PRO")).apiKey);
    // The cluster every test reads; the one that stops a node starts it again.
    const created = await api.post("/v1/resources", { template: "ipfs-cluster-small", name, options: { publicNetwork: false } });
    expect(created.status).toBe(202);
    id = created.body.resource.id;
    expect(await waitForOperation(api, id!, created.body.operation.id, 360_000)).toMatchObject({ status: "SUCCEEDED" });
  }, 400_000);

  afterAll(async () => {
    // DELETE, whatever happened above: nothing of this test stays in Docker.
    if (id) {
      const resource = (await api.get(`/v1/resources/${id}`)).body;
      if (resource.status !== "DELETED") {
        await docker("start", `${project()}-ipfs1`).catch(() => undefined);
        const deleted = await api.delete(`/v1/resources/${id}`);
        expect(deleted.status).toBe(202);
        expect(await waitForOperation(api, id, deleted.body.operation.id, 300_000)).toMatchObject({ status: "SUCCEEDED" });
      }
      expect(await leftovers(project())).toEqual([]);
    }
    await server?.close();
  }, 400_000);

  it("the cluster's metrics proxy serves each node's metrics and nothing else", async () => {
    const { endpoint } = (await api.get(`/v1/resources/${id}`)).body;
    for (const node of ["ipfs0", "ipfs1", "ipfs2"]) {
      const metrics = await fetch(`${endpoint.metrics}/${node}/debug/metrics/prometheus`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^ipfs_/m);
    }
    // The RPC API stays private: the proxy forwards the metrics path only.
    expect((await fetch(`${endpoint.metrics}/ipfs0/api/v0/id`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${endpoint.metrics}/ipfs0/debug/pprof/`)).status).toBe(404);
  });

  // The service's metrics count every resource the database holds: this test reads its own resource's series, and the shared counters as deltas.
  const scrape = async () => (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
  const sample = (metrics: string, series: string) =>
    Number(
      metrics
        .split("\n")
        .find((line) => line.startsWith(`${series} `))
        ?.split(" ")[1] ?? 0,
    );
  const changes = (from: string, to: string) =>
    `provisioner_resource_health_changes_total{template="ipfs-cluster-small",from="${from}",to="${to}"}`;
  const healthy = (metrics: string) =>
    metrics
      .split("\n")
      .find((line) => line.startsWith("provisioner_resource_healthy{") && line.includes(`resource_id="${id}"`))
      ?.split(" ")
      .at(-1);

  it("a stopped Kubo node: DEGRADED naming it; started again: ACTIVE", { timeout: 300_000 }, async () => {
    await waitForStatus(api, id!, ["ACTIVE"], 30_000);
    const before = await scrape();
    const stopped = Date.now();
    await docker("stop", `${project()}-ipfs1`);
    const degraded = await waitForStatus(api, id!, ["DEGRADED"], 120_000);
    const toDegraded = (Date.now() - stopped) / 1000;
    expect(degraded.lastError).toMatch(/^unhealthy: ipfs1: /);
    expect(degraded.lastError).not.toMatch(/ipfs0|ipfs2/);
    expect(healthy(await scrape())).toBe("0");

    const started = Date.now();
    await docker("start", `${project()}-ipfs1`);
    const active = await waitForStatus(api, id!, ["ACTIVE"], 120_000);
    const toActive = (Date.now() - started) / 1000;
    expect(active.lastError).toBeNull();
    // A figure, not a limit (timing belongs to bench/).
    process.stdout.write(
      `health monitor (interval ${intervalSeconds} s): DEGRADED ${toDegraded.toFixed(1)} s after docker stop, ACTIVE ${toActive.toFixed(1)} s after docker start\n`,
    );

    const events = (await api.get(`/v1/resources/${id}/events`)).body.events as { stage: string; message: string }[];
    const health = events.filter((e) => e.stage === "health").map((e) => e.message);
    expect(health[0]).toMatch(/^DEGRADED, unhealthy: ipfs1: /);
    expect(health.at(-1)).toBe("ACTIVE: every component is healthy again");
    const after = await scrape();
    expect(healthy(after)).toBe("1");
    expect(sample(after, changes("ACTIVE", "DEGRADED")) - sample(before, changes("ACTIVE", "DEGRADED"))).toBeGreaterThanOrEqual(1);
    expect(sample(after, changes("DEGRADED", "ACTIVE")) - sample(before, changes("DEGRADED", "ACTIVE"))).toBeGreaterThanOrEqual(1);
  });
});
