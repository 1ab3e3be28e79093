// The service's Prometheus metrics: one registry, one place for names.
import type { RequestHandler } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Database } from "../core/db.js";
import { runningByInstance } from "../core/instances.js";
import { monthOf, usageBetween } from "../core/metering.js";
import type { Operation } from "../prisma/generated/client.js";
import type { OperationObserver, RunResult } from "../automation/index.js";
import type { ProbeResult } from "./health-probes.js";
import type { VolumeUsage } from "./volume-usage.js";

/** Every per-resource series carries the resource's id: names are reused once a resource is deleted. */
type ResourceLabels = { resource_id: string; team: string; resource: string; template: string };
const resourceLabelNames = ["resource_id", "team", "resource", "template"];

export class Metrics implements OperationObserver {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram;
  private readonly operations: Counter;
  private readonly operationDuration: Histogram;
  private readonly inFlight: Gauge;
  private readonly healthChanges: Counter;
  private readonly healthy: Gauge;
  private readonly postgresConnections: Gauge;
  private readonly replicaLag: Gauge;
  private readonly repoSize: Gauge;
  private readonly storageMax: Gauge;
  private readonly backupLastSuccess: Gauge;
  private readonly backupMaxAge: Gauge;
  private readonly backupFailures: Counter;
  /** The sidecar's failure count last seen per resource: the counter grows by what it adds. */
  private readonly backupFailuresSeen = new Map<string, number>();
  private readonly verificationLastSuccess: Gauge;
  private readonly verificationSuccess: Gauge;
  private readonly verificationFailures: Counter;
  private readonly verificationDuration: Histogram;
  private readonly volumeUsed: Gauge;
  private readonly volumeSize: Gauge;
  private readonly webhookFailures: Counter;
  private readonly webhookDeliveries: Counter;
  /** The volumes measured of each resource, so a deleted resource's series can be removed. */
  private readonly volumesOf = new Map<string, string[]>();
  /** The labels of each resource's series, so a deleted resource's series can be removed. */
  private readonly seriesOf = new Map<string, ResourceLabels>();
  /** template/target of each running operation, for the labels at its end. */
  private readonly labelsOf = new Map<string, { kind: string; template: string; target: string }>();

  constructor(private readonly db: Database) {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request durations by method, route and status code.",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.operations = new Counter({
      name: "provisioner_operations_total",
      help: "Finished operations by kind, template, target and result.",
      labelNames: ["kind", "template", "target", "result"],
      registers: [this.registry],
    });
    this.operationDuration = new Histogram({
      name: "provisioner_operation_duration_seconds",
      help: "How long operations ran, by kind, template and target.",
      labelNames: ["kind", "template", "target"],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [this.registry],
    });
    this.inFlight = new Gauge({
      name: "provisioner_operations_in_flight",
      help: "Operations running in this instance.",
      registers: [this.registry],
    });
    this.healthChanges = new Counter({
      name: "provisioner_resource_health_changes_total",
      help: "Resources moved between ACTIVE and DEGRADED by the health monitor.",
      labelNames: ["template", "from", "to"],
      registers: [this.registry],
    });
    this.healthy = new Gauge({
      name: "provisioner_resource_healthy",
      help: "1 when the last health check of the resource found every component healthy, else 0.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    // The PostgreSQL templates export no Prometheus metrics; the health checks measure these.
    this.postgresConnections = new Gauge({
      name: "provisioner_postgres_connections",
      help: "Client connections of a provisioned PostgreSQL, at its last health check.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.replicaLag = new Gauge({
      name: "provisioner_postgres_replica_lag_seconds",
      help: "Replay lag of a provisioned PostgreSQL's replica at its last health check (0 when caught up).",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    // Kubo exports neither; the storage templates' health checks read them (repo/stat).
    this.repoSize = new Gauge({
      name: "provisioner_ipfs_repo_size_bytes",
      help: "Repository size of a provisioned Kubo node (storage templates), at its last health check.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.storageMax = new Gauge({
      name: "provisioner_ipfs_storage_max_bytes",
      help: "Datastore.StorageMax of a provisioned Kubo node (storage templates).",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    // Backups (issue 12): from the resource's backup store, at each health round.
    this.backupLastSuccess = new Gauge({
      name: "provisioner_backup_last_success_timestamp_seconds",
      help: "When a provisioned database's last verified backup succeeded (Unix time; 0: never).",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.backupMaxAge = new Gauge({
      name: "provisioner_backup_max_age_seconds",
      help: "How old a provisioned database's last successful backup may be before its backups count as failing (1.5 of its schedule's intervals).",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.backupFailures = new Counter({
      name: "provisioner_backup_failures_total",
      help: "Failed backup attempts of a provisioned database (dump, base backup or storing them), as its backup sidecar counted them.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    // Restore verifications (issue 12, part 4): the scheduled scratch restores.
    this.verificationLastSuccess = new Gauge({
      name: "provisioner_restore_verification_last_success_timestamp_seconds",
      help: "When a provisioned database's latest backup was last restored into a scratch server and checked (Unix time; 0: never).",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.verificationSuccess = new Gauge({
      name: "provisioner_restore_verification_success",
      help: "Whether a provisioned database's latest restore verification passed (1) or failed (0), each backup kind's newest.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.verificationFailures = new Counter({
      name: "provisioner_restore_verification_failures_total",
      help: "Restore verifications that failed: the backup did not restore, or the check query did not read it back.",
      labelNames: resourceLabelNames,
      registers: [this.registry],
    });
    this.verificationDuration = new Histogram({
      name: "provisioner_restore_verification_duration_seconds",
      help: "A restore verification, from the scratch container's start to the check's answer.",
      labelNames: ["template", "kind", "result"],
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    // Labelled by resource id and the template's volume name only: no user text.
    this.volumeUsed = new Gauge({
      name: "provisioner_volume_used_bytes",
      help: "Bytes used on a resource's quota-limited volume (Docker host), at its last health check.",
      labelNames: ["resource_id", "volume"],
      registers: [this.registry],
    });
    this.volumeSize = new Gauge({
      name: "provisioner_volume_size_bytes",
      help: "Size of a resource's quota-limited volume (Docker host): what it may hold.",
      labelNames: ["resource_id", "volume"],
      registers: [this.registry],
    });
    // A failing webhook is reported as itself: never as a failed resource, operation or backup.
    this.webhookFailures = new Counter({
      name: "provisioner_webhook_delivery_failures_total",
      help: "Failed webhook delivery attempts (an answer other than 2xx, a timeout, a refused destination), by event type.",
      labelNames: ["event"],
      registers: [this.registry],
    });
    this.webhookDeliveries = new Counter({
      name: "provisioner_webhook_deliveries_total",
      help: "Webhook deliveries finished, by event type and result: delivered, or failed after the last attempt.",
      labelNames: ["event", "result"],
      registers: [this.registry],
    });
    const database = this.db;
    new Gauge({
      name: "provisioner_resources",
      help: "Resources by status and template.",
      labelNames: ["status", "template"],
      registers: [this.registry],
      async collect() {
        const groups = await database.resource.groupBy({ by: ["status", "template"], _count: { _all: true } });
        this.reset();
        for (const g of groups) this.set({ status: g.status, template: g.template }, g._count._all);
      },
    });
    new Gauge({
      name: "provisioner_instance_operations_running",
      help: "Operations running now, by the service instance that runs them (PROVISIONER_INSTANCE_ID) and kind (all instances).",
      labelNames: ["instance", "kind"],
      registers: [this.registry],
      async collect() {
        const loads = await runningByInstance(database);
        this.reset();
        for (const { instance, kind, running } of loads) this.set({ instance, kind }, running);
      },
    });
    // Usage and cost per team this month (issue 15), labelled by team id only:
    // /metrics is the operator's (scrape token), and ids name no team to a reader of a shared dashboard.
    let monthUsage:
      Promise<{ teamId: string; costUsd: number; cpuHours: number; memoryGbHours: number; storageGbHours: number }[]> | undefined;
    const usageThisMonth = () =>
      // One computation per scrape serves both gauges.
      (monthUsage ??= (async () => {
        try {
          const now = new Date();
          const start = new Date(`${monthOf(now)}-01T00:00:00.000Z`);
          const teams = await database.usageSegment.findMany({
            where: { startedAt: { lt: now }, OR: [{ endedAt: null }, { endedAt: { gt: start } }] },
            distinct: ["teamId"],
            select: { teamId: true },
          });
          return await Promise.all(
            teams.map(async ({ teamId }) => {
              const usage = await usageBetween(database, teamId, start, now);
              const sum = (key: "cpuHours" | "memoryGbHours" | "storageGbHours") => usage.lines.reduce((n, line) => n + line[key], 0);
              return {
                teamId,
                costUsd: usage.totalCents / 100,
                cpuHours: sum("cpuHours"),
                memoryGbHours: sum("memoryGbHours"),
                storageGbHours: sum("storageGbHours"),
              };
            }),
          );
        } finally {
          setImmediate(() => (monthUsage = undefined));
        }
      })());
    new Gauge({
      name: "provisioner_team_cost_month_usd",
      help: "The month's cost so far per team (UTC month, the price table's prices), by team id.",
      labelNames: ["team_id"],
      registers: [this.registry],
      async collect() {
        const rows = await usageThisMonth();
        this.reset();
        for (const row of rows) this.set({ team_id: row.teamId }, row.costUsd);
      },
    });
    new Gauge({
      name: "provisioner_team_usage_month",
      help: "The month's metered usage so far per team: cpu_hours, memory_gb_hours, storage_gb_hours, by team id.",
      labelNames: ["team_id", "quantity"],
      registers: [this.registry],
      async collect() {
        const rows = await usageThisMonth();
        this.reset();
        for (const row of rows) {
          this.set({ team_id: row.teamId, quantity: "cpu_hours" }, row.cpuHours);
          this.set({ team_id: row.teamId, quantity: "memory_gb_hours" }, row.memoryGbHours);
          this.set({ team_id: row.teamId, quantity: "storage_gb_hours" }, row.storageGbHours);
        }
      },
    });
    new Gauge({
      name: "provisioner_queue_depth",
      help: "Operations waiting in the queue (all instances).",
      registers: [this.registry],
      async collect() {
        this.set(await database.operation.count({ where: { status: "QUEUED" } }));
      },
    });
  }

  /** Times every request; the route is the pattern (/v1/resources/:id), not the URL. */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      res.on("finish", () => {
        const pattern = (req.route as { path?: string } | undefined)?.path;
        const route = pattern ? `${req.baseUrl}${pattern}` : "unmatched";
        end({ method: req.method, route, status_code: res.statusCode });
      });
      next();
    };
  }

  started(operation: Operation): void {
    this.inFlight.inc();
    void this.db.resource
      .findUnique({ where: { id: operation.resourceId }, select: { template: true, target: true } })
      .then((r) =>
        this.labelsOf.set(operation.id, { kind: operation.kind, template: r?.template ?? "unknown", target: r?.target ?? "unknown" }),
      );
  }

  finished(operation: Operation, result: RunResult, seconds: number): void {
    this.inFlight.dec();
    const labels = this.labelsOf.get(operation.id) ?? { kind: operation.kind, template: "unknown", target: "unknown" };
    this.labelsOf.delete(operation.id);
    this.operations.inc({ ...labels, result: result.status.toLowerCase() });
    this.operationDuration.observe(labels, seconds);
    if (operation.kind === "DELETE" && result.status === "SUCCEEDED") this.forget(operation.resourceId);
  }

  private get perResource(): Gauge[] {
    return [
      this.healthy,
      this.postgresConnections,
      this.replicaLag,
      this.repoSize,
      this.storageMax,
      this.backupLastSuccess,
      this.backupMaxAge,
      this.verificationLastSuccess,
      this.verificationSuccess,
    ];
  }

  /** Each quota-limited volume's use and size (resource id and volume name only). */
  volumesMeasured(resourceId: string, volumes: VolumeUsage[]): void {
    for (const volume of this.volumesOf.get(resourceId) ?? []) {
      this.volumeUsed.remove({ resource_id: resourceId, volume });
      this.volumeSize.remove({ resource_id: resourceId, volume });
    }
    const mounted = volumes.filter((v) => v.mounted);
    for (const v of mounted) {
      this.volumeUsed.set({ resource_id: resourceId, volume: v.name }, v.usedBytes);
      this.volumeSize.set({ resource_id: resourceId, volume: v.name }, v.sizeBytes);
    }
    this.volumesOf.set(
      resourceId,
      mounted.map((v) => v.name),
    );
  }

  /** Removes a (deleted) resource's series. */
  forget(resourceId: string): void {
    this.volumesMeasured(resourceId, []);
    this.volumesOf.delete(resourceId);
    const labels = this.seriesOf.get(resourceId);
    if (!labels) return;
    for (const gauge of this.perResource) gauge.remove(labels);
    this.backupFailures.remove(labels);
    this.verificationFailures.remove(labels);
    this.backupFailuresSeen.delete(resourceId);
    this.seriesOf.delete(resourceId);
  }

  /** Removes the series of every resource not in `live` (deleted by another instance, say). */
  retain(live: ReadonlySet<string>): void {
    for (const id of new Set([...this.seriesOf.keys(), ...this.volumesOf.keys()])) if (!live.has(id)) this.forget(id);
  }

  healthChecked(labels: ResourceLabels, result: ProbeResult): void {
    // A renamed team or resource would otherwise leave its old series behind.
    const before = this.seriesOf.get(labels.resource_id);
    if (before && JSON.stringify(before) !== JSON.stringify(labels)) this.forget(labels.resource_id);
    this.seriesOf.set(labels.resource_id, labels);
    this.healthy.set(labels, result.failures.length ? 0 : 1);
    const { connections, replicaLagSeconds } = result.measurements;
    if (connections !== undefined) this.postgresConnections.set(labels, connections);
    if (replicaLagSeconds !== undefined) this.replicaLag.set(labels, replicaLagSeconds);
    if (result.measurements.repoSizeBytes !== undefined) this.repoSize.set(labels, result.measurements.repoSizeBytes);
    if (result.measurements.storageMaxBytes !== undefined) this.storageMax.set(labels, result.measurements.storageMaxBytes);
  }

  /** After healthChecked: the backups of the resource's store. */
  backupChecked(labels: ResourceLabels, lastSuccessAt: Date | null, failures: number, maxAgeSeconds: number): void {
    this.backupLastSuccess.set(labels, lastSuccessAt ? lastSuccessAt.getTime() / 1000 : 0);
    this.backupMaxAge.set(labels, maxAgeSeconds);
    const seen = this.backupFailuresSeen.get(labels.resource_id);
    // The first look only starts the count (an instance restart must not count old failures again).
    this.backupFailures.inc(labels, seen === undefined ? 0 : Math.max(0, failures - seen));
    this.backupFailuresSeen.set(labels.resource_id, failures);
  }

  /** The recorded state of the resource's restore verifications (any instance may have run them). */
  verificationChecked(labels: ResourceLabels, state: { lastSuccessAt: Date | null; ok: boolean | undefined }): void {
    this.seriesOf.set(labels.resource_id, labels);
    this.verificationLastSuccess.set(labels, state.lastSuccessAt ? state.lastSuccessAt.getTime() / 1000 : 0);
    if (state.ok === undefined) this.verificationSuccess.remove(labels);
    else this.verificationSuccess.set(labels, state.ok ? 1 : 0);
  }

  /** One restore verification, as the instance that ran it saw it. */
  verificationRan(labels: ResourceLabels, kind: string, ok: boolean, seconds: number): void {
    this.seriesOf.set(labels.resource_id, labels);
    this.verificationDuration.observe({ template: labels.template, kind, result: ok ? "success" : "failure" }, seconds);
    if (ok) this.verificationFailures.inc(labels, 0);
    else this.verificationFailures.inc(labels);
  }

  healthChanged(template: string, from: string, to: string): void {
    this.healthChanges.inc({ template, from, to });
  }

  /** One webhook attempt: `final` when the delivery is settled by it (delivered, or given up). */
  webhookAttempted(event: string, ok: boolean, final: boolean): void {
    if (!ok) this.webhookFailures.inc({ event });
    if (final) this.webhookDeliveries.inc({ event, result: ok ? "delivered" : "failed" });
  }
}
