// Checks every ACTIVE or DEGRADED resource on an interval (once across all
// service instances: a job of the scheduler) and moves it between
// the two, naming the failing component (lastError, an Event with stage
// "health", a metric). Operations own a resource's status while they run: a
// resource with a QUEUED or RUNNING operation is left alone (ResourceStatuses.healthMove
// checks it in the statement that changes the status).
import type { Logger } from "pino";
import { backupEventTypes, type EventLog } from "../core/event-log.js";
import { ResourceStatuses } from "../core/resource-status.js";
import type { ScheduledJob, Scheduler } from "../core/scheduler.js";
import type { CredentialsCipher } from "../core/credentials-cipher.js";
import type { Database } from "../core/db.js";
import type { KubernetesSettings } from "../core/cloud-settings.js";
import type { Prisma } from "../prisma/generated/client.js";
import { describeFailures, probe, type ProbeResult, type ProbeSettings } from "./health-probes.js";
import { kubernetesAccess, lostWithTheirNodes } from "./kubernetes-placement.js";
import type { Metrics } from "./metrics.js";
import { backupProblem, readBackupStore, storeDir, storeKeptHere } from "../core/backup-store.js";
import { copyBackupStore } from "../automation/index.js";
import { backupMaxAgeSeconds, type BackupOptions } from "../components/templates/postgres-backup.js";
import { volumeFailures, volumeUsage } from "./volume-usage.js";
import { verificationState } from "./restore-verification.js";
import { errorMessage } from "../core/error-message.js";

export interface HealthMonitorSettings extends ProbeSettings {
  /** 0 turns the monitor off. */
  intervalSeconds: number;
  /** The local Docker host's backup stores: a database whose backups fail is DEGRADED too. Unset: not checked. */
  backupsDir?: string;
  /** The Docker host whose stores backupsDir holds (PROVISIONER_DOCKER_HOST_ID): another host's databases are not judged by them. */
  dockerHostId?: string;
}

export interface HealthMonitorDeps {
  db: Database;
  events: EventLog;
  cipher: CredentialsCipher;
  metrics: Metrics;
  logger: Logger;
  settings: HealthMonitorSettings;
  scheduler: Scheduler;
  /** Where this machine's Docker host keeps projects (and their volumes' mounts: api/volume-usage.ts). */
  projectsDir?: string;
  /** The service's Kubernetes cluster: a resource there is also checked for pods on nodes that are not Ready. */
  kubernetes?: KubernetesSettings;
  /** How a resource is checked; default: the template's probes over the network. */
  probe?: typeof probe;
}

/** The health rounds' row in the jobs table. */
export const healthJob = "health-rounds";

/**
 * The rounds an instance takes part in, each a job of the scheduler (one run
 * per interval across the instances that share it). A Docker host's resources
 * are checked only by an instance of that host: their ports are published on
 * its loopback by default and their backup stores are its folders, so another
 * host's instance would judge them by what it cannot see. Resources elsewhere
 * (clouds, Kubernetes) are checked by any instance. Without a Docker host id,
 * one round checks everything.
 */
export function healthRounds(dockerHostId?: string): { job: string; where: Prisma.ResourceWhereInput }[] {
  if (!dockerHostId) return [{ job: healthJob, where: {} }];
  return [
    { job: healthJob, where: { target: { not: "docker-host" } } },
    { job: `${healthJob}@${dockerHostId}`, where: { target: "docker-host", OR: [{ dockerHostId }, { dockerHostId: null }] } },
  ];
}

type Status = "ACTIVE" | "DEGRADED";

/** What the monitor looks at: running resources no operation owns right now. */
const checkable = {
  status: { in: ["ACTIVE" as const, "DEGRADED" as const] },
  operations: { none: { status: { in: ["QUEUED" as const, "RUNNING" as const] } } },
};

export class HealthMonitor {
  private jobs?: ScheduledJob[];

  constructor(private readonly deps: HealthMonitorDeps) {}

  /** Rounds through the scheduler (healthRounds): each once per interval across the instances that share it, never two at once. */
  start(): void {
    const { intervalSeconds, dockerHostId } = this.deps.settings;
    if (intervalSeconds <= 0) return;
    this.jobs ??= healthRounds(dockerHostId).map(({ job, where }) =>
      this.deps.scheduler.every(job, { intervalSeconds }, () => this.checkAll(where)),
    );
    for (const job of this.jobs) job.start();
  }

  /** Waits for rounds in progress. */
  async stop(): Promise<void> {
    await Promise.all((this.jobs ?? []).map((job) => job.stop()));
  }

  /** One round: every ACTIVE or DEGRADED resource (of `where`) without a pending operation, in parallel. */
  async checkAll(where: Prisma.ResourceWhereInput = {}): Promise<void> {
    const resources = await this.deps.db.resource.findMany({
      where: { ...checkable, ...where },
      include: { team: { select: { name: true } } },
    });
    await Promise.all(resources.map((r) => this.check(r)));
    // Series of resources deleted since (here or by another instance) go.
    const live = await this.deps.db.resource.findMany({ where: { status: { not: "DELETED" } }, select: { id: true } });
    this.deps.metrics.retain(new Set(live.map((r) => r.id)));
  }

  /** One resource now, outside the rounds (after its restore verification, say); skipped like in a round. */
  async checkResource(id: string): Promise<void> {
    const resource = await this.deps.db.resource.findFirst({ where: { id, ...checkable }, include: { team: { select: { name: true } } } });
    if (resource) await this.check(resource);
  }

  /** A database's restore verifications (api/restore-verification.ts): a failed one is one of the resource's failures. */
  private async checkVerifications(resource: {
    id: string;
    target: string;
    dockerHostId: string | null;
    template: string;
    lastVerifiedRestoreAt: Date | null;
  }) {
    if (!storeKeptHere(resource, this.deps.settings.dockerHostId)) return undefined;
    return verificationState(this.deps.db, resource);
  }

  /**
   * A database's backups, from its store kept on this machine (storeKeptHere): their problem is one of the
   * resource's. A Kubernetes database's store is copied from the cluster first (with a WAL-archiving one's archiver
   * report); a copy that fails is the problem.
   */
  private async checkBackups(resource: {
    id: string;
    hostName: string;
    target: string;
    dockerHostId: string | null;
    template: string;
    options: unknown;
    lastBackupAt: Date | null;
  }) {
    const { backupsDir, dockerHostId } = this.deps.settings;
    if (!backupsDir || !storeKeptHere(resource, dockerHostId)) return undefined;
    const dir = storeDir(backupsDir, resource.hostName);
    const options = resource.options as BackupOptions;
    let copyProblem: string | undefined;
    if (resource.target === "kubernetes") {
      copyProblem = this.deps.kubernetes
        ? await copyBackupStore(this.deps.kubernetes, resource.hostName, dir, options.backupRetention, {
            walArchive: resource.template === "postgres-medium",
          }).then(
            () => undefined,
            (error: unknown) => `cannot copy the backup store from the cluster: ${errorMessage(error)}`,
          )
        : "no Kubernetes cluster is configured to copy the backup store from";
    }
    const state = readBackupStore(dir);
    const maxAgeSeconds = backupMaxAgeSeconds(options);
    const problem = copyProblem ?? backupProblem(state, maxAgeSeconds);
    if (state.lastSuccessAt && state.lastSuccessAt.getTime() !== resource.lastBackupAt?.getTime())
      await this.deps.db.resource.update({ where: { id: resource.id }, data: { lastBackupAt: state.lastSuccessAt } });
    return { state, problem, maxAgeSeconds };
  }

  private async check(resource: {
    id: string;
    name: string;
    hostName: string;
    target: string;
    dockerHostId: string | null;
    options: unknown;
    lastBackupAt: Date | null;
    lastVerifiedRestoreAt: Date | null;
    lastError: string | null;
    template: string;
    status: string;
    progress: number;
    configuration: unknown;
    endpoint: unknown;
    credentialsCiphertext: Uint8Array<ArrayBuffer> | null;
    credentialsKeyId: string | null;
    team: { name: string };
  }): Promise<void> {
    const { cipher, metrics, logger } = this.deps;
    if (!resource.endpoint || !resource.credentialsCiphertext || !resource.credentialsKeyId) return;
    let result: ProbeResult;
    try {
      const credentials = cipher.open(resource.id, { keyId: resource.credentialsKeyId, ciphertext: resource.credentialsCiphertext });
      result = await (this.deps.probe ?? probe)(
        { template: resource.template, endpoint: resource.endpoint as Record<string, string>, credentials },
        this.deps.settings,
      );
      // A full quota fails writes inside the resource only: said here, before its users find out.
      if (this.deps.projectsDir) {
        const volumes = await volumeUsage(this.deps.projectsDir, resource);
        metrics.volumesMeasured(resource.id, volumes);
        result = { ...result, failures: [...result.failures, ...volumeFailures(volumes)] };
      }
      // On Kubernetes, which node took the failing parts with it (its namespace is the resource's host name).
      if (resource.target === "kubernetes" && this.deps.kubernetes) {
        const lost = await lostWithTheirNodes(
          kubernetesAccess(this.deps.kubernetes),
          resource.hostName,
          this.deps.settings.timeoutSeconds * 1000,
        ).catch((error: unknown) => {
          logger.warn({ err: error, resourceId: resource.id }, "could not read the resource's pods from Kubernetes");
          return [];
        });
        result = { ...result, failures: [...result.failures, ...lost] };
      }
    } catch (error) {
      logger.error({ err: error, resourceId: resource.id }, "health probe failed to run");
      return;
    }
    const labels = { resource_id: resource.id, team: resource.team.name, resource: resource.name, template: resource.template };
    const backup = await this.checkBackups(resource);
    if (backup?.problem) result = { ...result, failures: [...result.failures, { component: "backup", message: backup.problem }] };
    const verification = await this.checkVerifications(resource);
    if (verification?.failure)
      result = { ...result, failures: [...result.failures, { component: "restore-verification", message: verification.failure }] };
    metrics.healthChecked(labels, result);
    if (backup) metrics.backupChecked(labels, backup.state.lastSuccessAt, backup.state.failures, backup.maxAgeSeconds);
    if (verification) metrics.verificationChecked(labels, verification);
    const from = resource.status as Status;
    const to: Status = result.failures.length ? "DEGRADED" : "ACTIVE";
    const lastError = to === "DEGRADED" ? describeFailures(result.failures) : null;
    if (from === to && to === "ACTIVE") return;
    if (!(await new ResourceStatuses(this.deps.db).healthMove(resource.id, { from, to, lastError }))) return;
    const message =
      to === "DEGRADED"
        ? from === "DEGRADED"
          ? `still DEGRADED, ${lastError}`
          : `DEGRADED, ${lastError}`
        : "ACTIVE: every component is healthy again";
    await this.deps.events.record({
      resourceId: resource.id,
      stage: "health",
      progress: resource.progress,
      message,
      detail: { from, to, failures: result.failures },
    });
    // A backup failure new to this resource is an event of its own type too (webhooks subscribe to it);
    // the same one again with other figures ("last successful backup 5400 s ago") is not new.
    const shape = (text: string) => text.replace(/\d+/g, "#");
    if (backup?.problem && !shape(resource.lastError ?? "").includes(shape(`backup: ${backup.problem}`)))
      await this.deps.events.record(
        {
          resourceId: resource.id,
          stage: "backup",
          progress: resource.progress,
          message: `backup failed: ${backup.problem}`,
          detail: { type: backupEventTypes.backupFailed, problem: backup.problem, failures: backup.state.failures },
        },
        {
          type: backupEventTypes.backupFailed,
          data: {
            resource: { id: resource.id, name: resource.name, template: resource.template, status: to },
            reason: backup.problem,
            failures: backup.state.failures,
          },
        },
      );
    if (from !== to) {
      metrics.healthChanged(resource.template, from, to);
      logger.warn({ resourceId: resource.id, from, to, failures: result.failures }, "resource health changed");
    }
  }
}
