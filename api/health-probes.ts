// How each template's system is checked from the outside, as its users reach
// it: which component fails, and what the probes measured. No Docker access:
// the same checks work for a system on a cloud server.
import pg from "pg";
import { templates } from "../components/templates/index.js";
import { kuboMetricsPath } from "../components/templates/metrics-proxy.js";
import type { HealthProbe } from "../components/templates/template.js";

export interface Failure {
  /** The failing part, by its service name: ipfs1, cluster2, pgbouncer, replica. */
  component: string;
  message: string;
}

export interface ProbeResult {
  failures: Failure[];
  /** Measurements worth a gauge (Postgres connections, replica lag). */
  measurements: { connections?: number; replicaLagSeconds?: number; repoSizeBytes?: number; storageMaxBytes?: number };
}

export interface ProbeTarget {
  template: string;
  endpoint: Record<string, string>;
  credentials: Record<string, string>;
}

export interface ProbeSettings {
  timeoutSeconds: number;
  maxReplicaLagSeconds: number;
}

const basic = (c: Record<string, string>) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
const reason = (error: unknown) => {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
};

async function request(url: string, settings: ProbeSettings, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(settings.timeoutSeconds * 1000) });
}

/** ipfs-cluster /peers: one JSON object per peer (a stream), or an array from older versions. */
interface PeerId {
  peername?: string;
  error?: string;
  ipfs?: { error?: string };
}

function parsePeers(text: string): PeerId[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return JSON.parse(trimmed) as PeerId[];
  return trimmed
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PeerId);
}

const timedOut = (error: unknown) => (error as Error).name === "TimeoutError";

/** Each peer as the cluster sees it (through peer 0's REST API). */
async function clusterPeers(target: ProbeTarget, peers: number[], settings: ProbeSettings): Promise<Failure[]> {
  const failures: Failure[] = [];
  try {
    const response = await request(`${target.endpoint.restApi}/peers`, settings, { headers: { authorization: basic(target.credentials) } });
    if (!response.ok) throw new Error(`REST API answered ${response.status}`);
    const seen = new Map(parsePeers(await response.text()).map((p) => [p.peername ?? "", p]));
    for (const i of peers) {
      const peer = seen.get(`cluster${i}`);
      if (!peer) failures.push({ component: `cluster${i}`, message: "missing from the cluster's peers" });
      else if (peer.error) failures.push({ component: `cluster${i}`, message: peer.error });
      else if (peer.ipfs?.error) failures.push({ component: `ipfs${i}`, message: `Kubo of cluster${i}: ${peer.ipfs.error}` });
    }
  } catch (error) {
    failures.push({
      component: "cluster0",
      message: `REST API /peers: ${timedOut(error) ? `no answer within ${settings.timeoutSeconds} s` : reason(error)}`,
    });
  }
  return failures;
}

/** A Kubo node's RPC API, through the metrics proxy (the only way in from outside). */
async function kuboThroughProxy(target: ProbeTarget, i: number, settings: ProbeSettings): Promise<Failure[]> {
  try {
    const response = await request(`${target.endpoint.metrics}/ipfs${i}${kuboMetricsPath}`, settings);
    await response.arrayBuffer();
    return response.ok ? [] : [{ component: `ipfs${i}`, message: `RPC API unreachable (the metrics proxy answered ${response.status})` }];
  } catch (error) {
    // The proxy answers at once when it runs; waiting means the node does not answer it.
    if (timedOut(error)) return [{ component: `ipfs${i}`, message: `RPC API: no answer within ${settings.timeoutSeconds} s` }];
    return [{ component: "metrics", message: `metrics proxy: ${reason(error)}` }];
  }
}

/**
 * The cluster's view of every peer, and every Kubo node directly, in
 * parallel. A peer's entry in /peers waits on its Kubo node, so when a node
 * hangs /peers can time out too: the node is then the failure to name.
 */
async function probeCluster(target: ProbeTarget, settings: ProbeSettings): Promise<ProbeResult> {
  const peers = Object.keys(target.endpoint)
    .filter((k) => /^gateway\d+$/.test(k))
    .map((k) => Number(k.slice("gateway".length)))
    .sort((a, b) => a - b);
  const [fromCluster, ...fromNodes] = await Promise.all([
    clusterPeers(target, peers, settings),
    ...(target.endpoint.metrics ? peers.map((i) => kuboThroughProxy(target, i, settings)) : []),
  ]);
  const nodeFailures = fromNodes.flat();
  const byComponent = new Map<string, Failure>();
  for (const failure of [...nodeFailures, ...fromCluster]) {
    if (
      failure.component === "cluster0" &&
      failure.message.includes("no answer") &&
      nodeFailures.some((f) => f.component.startsWith("ipfs"))
    )
      continue;
    if (!byComponent.has(failure.component)) byComponent.set(failure.component, failure);
  }
  return { failures: [...byComponent.values()], measurements: {} };
}

/**
 * Kubo's identity through the authenticated RPC API, and its repository's
 * size against StorageMax (Kubo exports no metric of either).
 */
async function probeStorage(target: ProbeTarget, settings: ProbeSettings): Promise<ProbeResult> {
  const headers = { authorization: basic(target.credentials) };
  try {
    const response = await request(`${target.endpoint.api}/api/v0/id`, settings, { method: "POST", headers });
    const body = (await response.json().catch(() => ({}))) as { ID?: string };
    if (!response.ok || !body.ID)
      return { failures: [{ component: "ipfs", message: `RPC API /api/v0/id answered ${response.status}` }], measurements: {} };
    const stat = await request(`${target.endpoint.api}/api/v0/repo/stat?size-only=true`, settings, { method: "POST", headers });
    const repo = (await stat.json().catch(() => ({}))) as { RepoSize?: number; StorageMax?: number };
    return { failures: [], measurements: { repoSizeBytes: repo.RepoSize, storageMaxBytes: repo.StorageMax } };
  } catch (error) {
    return { failures: [{ component: "ipfs", message: `RPC API: ${reason(error)}` }], measurements: {} };
  }
}

async function query<T>(connectionString: string, settings: ProbeSettings, sql: string): Promise<T> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: settings.timeoutSeconds * 1000,
    query_timeout: settings.timeoutSeconds * 1000,
  });
  // A connection that dies during the check must not crash the service.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SELECT 1 through PgBouncer, the client connections; on postgres-medium the replica's lag. */
async function probePostgres(target: ProbeTarget, settings: ProbeSettings): Promise<ProbeResult> {
  const failures: Failure[] = [];
  const measurements: ProbeResult["measurements"] = {};
  try {
    const row = await query<{ ok: number; connections: number }>(
      target.credentials.connectionString!,
      settings,
      "SELECT 1 AS ok, (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections",
    );
    measurements.connections = row.connections;
  } catch (error) {
    failures.push({ component: "pgbouncer", message: `SELECT 1 through PgBouncer: ${reason(error)}` });
  }
  if (target.endpoint.replicaPort) {
    const replica = new URL(target.credentials.connectionString!);
    replica.port = target.endpoint.replicaPort;
    // A managed database's replica is another host.
    if (target.endpoint.replicaUrl) replica.hostname = new URL(target.endpoint.replicaUrl).hostname;
    try {
      const row = await query<{ standby: boolean; lag: number }>(
        replica.toString(),
        settings,
        // Caught up = nothing received waits to be replayed: lag 0 even when the primary is idle.
        `SELECT pg_is_in_recovery() AS standby,
                CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag`,
      );
      measurements.replicaLagSeconds = row.lag;
      if (!row.standby) failures.push({ component: "replica", message: "not in recovery: it is no longer a replica" });
      else if (row.lag > settings.maxReplicaLagSeconds)
        failures.push({ component: "replica", message: `lags ${Math.round(row.lag)} s (more than ${settings.maxReplicaLagSeconds} s)` });
    } catch (error) {
      failures.push({ component: "replica", message: reason(error) });
    }
  }
  return { failures, measurements };
}

/** Every probe a template can declare (Template.healthProbe) has its code here. */
export const probes: Record<HealthProbe, (target: ProbeTarget, settings: ProbeSettings) => Promise<ProbeResult>> = {
  "ipfs-cluster": probeCluster,
  "kubo-rpc": probeStorage,
  postgres: probePostgres,
};

export async function probe(target: ProbeTarget, settings: ProbeSettings): Promise<ProbeResult> {
  const template = templates[target.template];
  // A resource of a template the catalogue no longer has cannot be checked: it is not called healthy.
  if (!template)
    return { failures: [{ component: "template", message: `no health probe: unknown template ${target.template}` }], measurements: {} };
  return probes[template.healthProbe](target, settings);
}

/** lastError of a DEGRADED resource: every failing component, named. */
export const describeFailures = (failures: Failure[]) => `unhealthy: ${failures.map((f) => `${f.component}: ${f.message}`).join("; ")}`;
