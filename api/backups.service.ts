// A database's backups in the API: listing its store, asking for a backup now,
// and resolving a restore's source (the team's own database, a DELETED one
// while its store is kept). The store is read through core/backup-store.ts;
// the sidecar writes it (components/templates/postgres-backup.ts), or on
// Kubernetes the backup Jobs, whose store the health rounds copy here.
import type { Database } from "../core/db.js";
import { backupProblem, readBackupStore, requestBackup, storeDir, storeKeptHere } from "../core/backup-store.js";
import type { KubernetesSettings } from "../core/cloud-settings.js";
import { runBackupJob } from "../automation/index.js";
import { errorMessage } from "../core/error-message.js";
import { backupMaxAgeSeconds, type BackupOptions } from "../components/templates/postgres-backup.js";
import { ApiError } from "./errors.js";
import type { RestoreFromBody } from "./backups.schemas.js";

export interface BackupSettings {
  /** The local Docker host's backup stores. */
  backupsDir: string;
  retentionAfterDeleteDays: number;
  /** The cluster a Kubernetes database's backup Job runs in. */
  kubernetes?: KubernetesSettings;
}

const notFound = () => new ApiError(404, "not_found", "no such resource");
const dayMs = 86_400_000;

export class BackupService {
  constructor(
    private readonly db: Database,
    readonly settings: BackupSettings,
  ) {}

  private async database(teamId: string, id: string) {
    const resource = await this.db.resource.findFirst({ where: { id, teamId } });
    if (!resource) throw notFound();
    if (!storeKeptHere(resource, undefined))
      throw new ApiError(409, "no_backups", `a ${resource.template} resource on ${resource.target} has no backup store here`);
    return resource;
  }

  private keptUntil(resource: { deletedAt: Date | null }): Date | null {
    return resource.deletedAt ? new Date(resource.deletedAt.getTime() + this.settings.retentionAfterDeleteDays * dayMs) : null;
  }

  async list(teamId: string, id: string) {
    const resource = await this.database(teamId, id);
    const state = readBackupStore(storeDir(this.settings.backupsDir, resource.hostName));
    const keptUntil = this.keptUntil(resource);
    const verifications = await this.db.restoreVerification.findMany({
      where: { resourceId: resource.id },
      orderBy: { id: "desc" },
      take: 100,
      select: { backup: true, kind: true, ok: true, message: true, seconds: true, finishedAt: true },
    });
    const restoredAt = (id: string) => verifications.find((v) => v.backup === id && v.ok)?.finishedAt.toISOString() ?? null;
    const last = verifications[0];
    return {
      backups: state.backups.map((b) => ({ ...b, restoreVerifiedAt: restoredAt(b.id) })),
      lastBackupAt: state.lastSuccessAt?.toISOString() ?? null,
      lastVerifiedRestoreAt: resource.lastVerifiedRestoreAt?.toISOString() ?? null,
      lastVerification: last
        ? {
            at: last.finishedAt.toISOString(),
            backup: last.backup,
            kind: last.kind as "dump" | "base",
            ok: last.ok,
            message: last.message,
            seconds: Math.round(last.seconds * 10) / 10,
          }
        : null,
      problem:
        resource.status === "DELETED"
          ? null
          : (backupProblem(state, backupMaxAgeSeconds(resource.options as unknown as BackupOptions)) ?? null),
      failures: state.failures,
      restorableRange: state.restorableRange,
      keptUntil: keptUntil?.toISOString() ?? null,
    };
  }

  /**
   * A backup now: the sidecar takes it within seconds (on Kubernetes, a Job of the backup CronJob's pod); its
   * result shows in the listing, the health rounds and the metrics.
   */
  async request(teamId: string, id: string) {
    const resource = await this.database(teamId, id);
    if (resource.status !== "ACTIVE" && resource.status !== "DEGRADED")
      throw new ApiError(409, "not_running", `the resource is ${resource.status}: only a running database can back up`);
    let message = "the backup sidecar takes it within seconds; GET .../backups shows it";
    if (resource.target === "kubernetes") {
      if (!this.settings.kubernetes) throw new ApiError(503, "kubernetes_unavailable", "this service has no Kubernetes cluster configured");
      const job = await runBackupJob(this.settings.kubernetes, resource.hostName, ["once", "on-demand"]).catch((error: unknown) => {
        throw new ApiError(503, "kubernetes_unavailable", `the backup Job could not be started: ${errorMessage(error)}`);
      });
      message = `the backup Job ${job} takes it; GET .../backups shows it after the next health round`;
    } else requestBackup(storeDir(this.settings.backupsDir, resource.hostName));
    await this.db.event.create({
      data: { resourceId: resource.id, stage: "backup", progress: resource.progress, message: "backup requested" },
    });
    return { requested: true as const, message };
  }

  /** Where a new database comes from; 4xx naming the field when the source cannot give it. */
  async restoreSource(teamId: string, from: RestoreFromBody) {
    const field = (name: string, message: string, status = 400) =>
      new ApiError(status, status === 404 ? "not_found" : "invalid_request", `restoreFrom.${name} ${message}`, [
        { field: `restoreFrom.${name}`, message },
      ]);
    const source = await this.db.resource.findFirst({ where: { id: from.resource, teamId } });
    if (!source || !source.template.startsWith("postgres-")) throw field("resource", "is not one of the team's databases", 404);
    if (!storeKeptHere(source, undefined)) throw field("resource", "has no backup store on this host");
    const keptUntil = this.keptUntil(source);
    if (keptUntil && keptUntil < new Date()) throw field("resource", "was deleted and its backups are gone");
    const state = readBackupStore(storeDir(this.settings.backupsDir, source.hostName));
    if ("backup" in from) {
      if (!state.backups.some((b) => b.id === from.backup && b.kind === "dump" && b.verified))
        throw field("backup", "is not a verified dump of the source (see its backups)");
      return { hostName: source.hostName, backup: from.backup };
    }
    if (source.template !== "postgres-medium") throw field("pointInTime", "needs a postgres-medium source (WAL archiving)");
    const range = state.restorableRange;
    if (!range || from.pointInTime < range.from || from.pointInTime > range.to)
      throw field("pointInTime", range ? `must be within ${range.from} .. ${range.to}` : "the source has no base backup yet");
    return { hostName: source.hostName, pointInTime: from.pointInTime };
  }
}
