// Monitoring end to end: a real Prometheus (Debian's package) runs the
// project's prometheus/prometheus.yml against the real service and a
// small-storage resource it provisioned; every dashboard expression runs, and
// the alerting rules of prometheus/alerts.yml load and evaluate.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { expressions, loadDashboards } from "../grafana/dashboards.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { leftovers } from "./deployment.js";
import { eventually } from "./docker.js";
import { client, waitForOperation, type Client } from "./service-client.js";
import { freePort } from "./net.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const scrapeToken = crypto.randomBytes(24).toString("hex");

interface ScrapeConfig {
  job_name: string;
  authorization?: { credentials_file?: string };
  static_configs?: { targets: string[] }[];
  http_sd_configs?: { url: string; refresh_interval?: string; authorization?: { credentials_file?: string } }[];
}

/** The project's configuration, pointed at this test's service; scrapes every 2 s instead of 15 to keep the test short. */
function prometheusConfig(serviceAddress: string, tokenFile: string): string {
  const config = parse(fs.readFileSync(path.join(repoRoot, "prometheus", "prometheus.yml"), "utf8")) as {
    global: Record<string, string>;
    rule_files?: string[];
    scrape_configs: ScrapeConfig[];
  };
  // Rule files are relative to the configuration's folder: this one is written elsewhere.
  config.rule_files = (config.rule_files ?? []).map((file) => path.join(repoRoot, "prometheus", file));
  config.global.scrape_interval = "2s";
  config.global.evaluation_interval = "2s";
  for (const job of config.scrape_configs) {
    if (job.authorization) job.authorization.credentials_file = tokenFile;
    for (const s of job.static_configs ?? []) s.targets = s.targets.map((t) => t.replace("provisioner:3000", serviceAddress));
    for (const sd of job.http_sd_configs ?? []) {
      sd.url = sd.url.replace("provisioner:3000", serviceAddress);
      sd.refresh_interval = "2s";
      sd.authorization!.credentials_file = tokenFile;
    }
  }
  return stringify(config);
}

describe("monitoring: Prometheus scrapes the service and what it provisions", () => {
  let server: TestServer;
  let api: Client;
  let teamName: string;
  let id: string | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-prometheus-"));
  const prometheusLog: string[] = [];
  const name = `mon${process.pid}`;

  const query = async (promql: string) => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
  };

  beforeAll(async () => {
    server = await startTestServer({ PROVISIONER_SCRAPE_TOKEN: scrapeToken, HEALTH_CHECK_INTERVAL_SECONDS: "2" });
    server.service.health.start();
    teamName = `m${crypto.randomBytes(3).toString("hex")}`;
    api = client(server.base, (await new TeamService(server.service.db).create(teamName, "PRO")).apiKey);
    // The resource every test reads; deleted (and checked) in afterAll.
    const created = await api.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } });
    id = created.body.resource.id;
    expect(await waitForOperation(api, id!, created.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
  }, 300_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    if (id) {
      // Deleted, the resource leaves the targets and nothing of it is left in Docker.
      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(await waitForOperation(api, id, deleted.body.operation.id, 240_000)).toMatchObject({ status: "SUCCEEDED" });
      const groups = (await client(server.base, scrapeToken).get("/v1/prometheus/targets")).body as { labels: Record<string, string> }[];
      expect(groups.filter((g) => g.labels.resource_id === id)).toEqual([]);
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    }
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it("GET /v1/prometheus/targets: the scrape token only (not a team's key); off without PROVISIONER_SCRAPE_TOKEN", async () => {
    const targets = client(server.base, scrapeToken);
    expect((await targets.get("/v1/prometheus/targets")).status).toBe(200);
    expect((await client(server.base).get("/v1/prometheus/targets")).body.error.code).toBe("unauthenticated");
    expect((await api.get("/v1/prometheus/targets")).status).toBe(401);
    const off = await startTestServer({ PROVISIONER_SCRAPE_TOKEN: "" }, { runWorker: false });
    try {
      const reply = await client(off.base, scrapeToken).get("/v1/prometheus/targets");
      expect(reply.status).toBe(404);
      expect(reply.body.error).toEqual({
        code: "not_configured",
        message: "Prometheus service discovery is off: set PROVISIONER_SCRAPE_TOKEN",
      });
    } finally {
      await off.close();
    }
  });

  it("lists a provisioned small-storage node, labelled, once it is ACTIVE", async () => {
    const groups = (await client(server.base, scrapeToken).get("/v1/prometheus/targets")).body as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    const mine = groups.filter((g) => g.labels.resource_id === id);
    const { endpoint } = (await api.get(`/v1/resources/${id}`)).body;
    expect(mine).toEqual([
      {
        targets: [new URL(endpoint.api).host],
        labels: {
          __metrics_path__: "/debug/metrics/prometheus",
          team: teamName,
          resource: name,
          resource_id: id,
          template: "small-storage",
          target: "docker-host",
          node: "ipfs",
        },
      },
    ]);
  });

  it(
    "a real Prometheus with the project's configuration: every target up, every dashboard expression runs, the control-plane panels have data",
    { timeout: 240_000 },
    async () => {
      const tokenFile = path.join(dir, "scrape-token");
      fs.writeFileSync(tokenFile, scrapeToken, { mode: 0o600 });
      const configFile = path.join(dir, "prometheus.yml");
      fs.writeFileSync(configFile, prometheusConfig(new URL(server.base).host, tokenFile));
      const port = await freePort();
      prometheusUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        "prometheus",
        [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      prometheus.stderr!.on("data", (chunk: Buffer) => prometheusLog.push(chunk.toString()));

      // Every target up, the provisioned node among them with its labels.
      const started = Date.now();
      let lastSeen = "none yet";
      const targets = await eventually(
        async () => {
          const body = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
            data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
          };
          const active = body.data.activeTargets;
          lastSeen = active.map((t) => `${t.labels.job}/${t.labels.resource ?? "-"}: ${t.health} ${t.lastError}`).join("; ");
          const node = active.find((t) => t.labels.resource === name && t.labels.team === teamName);
          // This test's targets: the service and its resource (the database may hold other teams' resources).
          const ours = active.filter((t) => t.labels.job === "provisioner" || t.labels.resource === name);
          return node && ours.every((t) => t.health === "up") ? ours : undefined;
        },
        90_000,
        "every target up",
      ).catch((error: unknown) => {
        // Prometheus's own log says why (read now, not when the wait began).
        throw new Error(`${(error as Error).message}\ntargets: ${lastSeen}\nprometheus log: ${prometheusLog.join("").slice(-3000)}`);
      });
      process.stdout.write(`prometheus: ${targets.length} targets up ${((Date.now() - started) / 1000).toFixed(1)} s after start\n`);
      expect(targets.find((t) => t.labels.job === "provisioner")).toBeDefined();
      expect(targets.find((t) => t.labels.resource === name)!.labels).toMatchObject({
        job: "provisioned",
        template: "small-storage",
        target: "docker-host",
        node: "ipfs",
      });
      expect(
        (await query(`ipfs_p2p_peers_total{resource="${name}"} or ipfs_info{resource="${name}"}`)).data!.result.length,
      ).toBeGreaterThan(0);

      // Rates need two samples of each series: wait until every control-plane panel has data.
      const dashboards = loadDashboards();
      const controlPlane = expressions(dashboards["control-plane"]!);
      await eventually(
        async () => {
          for (const { expr } of controlPlane) if (!(await query(expr)).data?.result.length) return undefined;
          return true;
        },
        60_000,
        "data in every control-plane panel",
      );
      // The IPFS panels have data for this test's node (rates too: wait for two samples).
      const ours = (result: Awaited<ReturnType<typeof query>>) =>
        result.data?.result.some((r) => r.metric.team === teamName && r.metric.resource === name);
      // Kubo exports its peer count only once it has peers, and this node is private (no public network):
      // test/ipfs-cluster.test.ts checks that panel's metric on nodes with peers.
      const needPeers = ["ipfs_p2p_peers_total"];
      const ipfsPanels = expressions(dashboards.ipfs!).filter(({ expr }) => !needPeers.some((metric) => expr.includes(metric)));
      await eventually(
        async () => {
          for (const { expr } of ipfsPanels) if (!ours(await query(expr))) return undefined;
          return true;
        },
        90_000,
        "data for this test's node in every IPFS panel",
      ).catch(async (error: unknown) => {
        const empty: string[] = [];
        for (const { panel, expr } of ipfsPanels) if (!ours(await query(expr))) empty.push(`${panel}: ${expr}`);
        throw new Error(`${(error as Error).message}; no data for ${name} in:\n${empty.join("\n")}`);
      });
      // Every metric a panel names exists: the service declares it (its /metrics lists even series not yet set,
      // such as the PostgreSQL gauges no resource here feeds) or Prometheus scraped it. A misspelled name fails here.
      const declared = await (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
      const scraped = ((await (await fetch(`${prometheusUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data;
      const known = new Set([...scraped, ...[...declared.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!), ...needPeers]);
      for (const [dashboard, content] of Object.entries(dashboards)) {
        for (const { panel, expr } of expressions(content)) {
          const result = await query(expr);
          expect(result, `${dashboard} / ${panel}: ${expr}`).toMatchObject({ status: "success" });
          // Metrics with a selector (every IPFS and PostgreSQL panel selects by team).
          const metrics = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!);
          expect(
            metrics.filter((metric) => !known.has(metric)),
            `${dashboard} / ${panel}: unknown metrics in ${expr}`,
          ).toEqual([]);
          if (dashboard === "control-plane") expect(result.data!.result.length, `${panel}: ${expr}`).toBeGreaterThan(0);
        }
      }
      // The alerting rules are loaded and every one of them evaluates (health "ok": its expression runs).
      const rules = await eventually(
        async () => {
          const body = (await (await fetch(`${prometheusUrl}/api/v1/rules?type=alert`)).json()) as {
            data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
          };
          const all = body.data.groups.flatMap((g) => g.rules);
          return all.length && all.every((r) => r.health === "ok") ? all : undefined;
        },
        60_000,
        "every alerting rule evaluated",
      );
      expect(rules.map((r) => r.name).sort()).toEqual([
        "ProvisionerBackupTooOld",
        "ProvisionerResourceDegraded",
        "ProvisionerRestoreVerificationFailed",
        "ProvisionerRestoreVerificationTooOld",
      ]);
      // The storage node's repository against StorageMax (from the health checks) and its labels.
      const storageMax = await query(`provisioner_ipfs_storage_max_bytes{resource="${name}"}`);
      expect(storageMax.data!.result[0]!.metric).toMatchObject({ team: teamName, template: "small-storage" });
      expect(Number(storageMax.data!.result[0]!.value[1])).toBe(5e9);
    },
  );
});
