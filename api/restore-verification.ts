// Verified restores (issue 12, part 4): on a schedule (BACKUP_VERIFY_INTERVAL_HOURS,
// default daily; a job of core/scheduler.ts per Docker host, since the stores
// and the scratch containers are that host's), the latest verified backup of
// every running database on this Docker host or on Kubernetes (whose store is
// copied here: automation/kubernetes-backups.ts) (its newest dump, and on
// postgres-medium its newest base backup) is restored into a scratch container
// and read back with a query (components/templates/restore-check.ts). Each
// result is a row of restore_verifications (this module owns them) and sets
// the resource's lastVerifiedRestoreAt on success; it is an event
// (restore_verification.succeeded / .failed) and metrics. A failed one is
// one of the resource's health failures: the health monitor reads these rows
// and makes the resource DEGRADED with the reason (resource-status.ts), asked
// to look at once. A failed verification is tried again as soon as a newer
// backup of its kind exists, else at the next interval.
import crypto from "node:crypto";
import type { Logger } from "pino";
import { runRestoreCheck, type RestoreCheck, type RestoreCheckResult } from "../automation/index.js";
import { readBackupStore, storeDir, type StoredBackup } from "../core/backup-store.js";
import type { Database } from "../core/db.js";
import { backupEventTypes, type EventLog } from "../core/event-log.js";
import type { ScheduledJob, Scheduler } from "../core/scheduler.js";
import { databaseNames } from "../components/templates/postgres.js";
import type { Metrics } from "./metrics.js";
import { errorMessage } from "../core/error-message.js";

export interface RestoreVerificationSettings {
  /** Between two verifications of a database (0: none). */
  intervalHours: number;
  /** This machine's Docker host's backup stores. */
  backupsDir: string;
  /** The Docker host this instance runs on: only its databases (and stores) are verified here. */
  dockerHostId: string;
  /** The PostgreSQL image when a resource's configuration names none. */
  defaultImage: string;
}

export interface RestoreVerificationDeps {
  db: Database;
  events: EventLog;
  metrics: Metrics;
  logger: Logger;
  settings: RestoreVerificationSettings;
  /** After a resource's verifications: its health looked at again (a failure makes it DEGRADED at once). */
  afterVerifying?: (resourceId: string) => Promise<void>;
  /** How a backup is restored and checked; default: a scratch container on this machine's Docker engine. */
  runCheck?: (check: RestoreCheck) => Promise<RestoreCheckResult>;
}

/** A run starts no verification after this long, so that it ends well within its claim on the job. */
const runBudgetMs = 2 * 3_600_000;
const claimSeconds = 3 * 3600;

/** The job's row in the jobs table: one per Docker host (a jobs name has at most 63 characters). */
export function restoreVerificationJob(dockerHostId: string): string {
  const name = `restore-verification:${dockerHostId}`;
  return name.length <= 63 ? name : `restore-verification:${crypto.createHash("sha256").update(dockerHostId).digest("hex").slice(0, 32)}`;
}

interface Verification {
  backup: string;
  kind: string;
  ok: boolean;
  message: string;
  finishedAt: Date;
}

export interface VerificationState {
  /** undefined: never verified. */
  ok: boolean | undefined;
  lastSuccessAt: Date | null;
  /** Why the newest verification of some kind failed. */
  failure?: string;
  /** The newest verification of each kind. */
  latest: Verification[];
}

/** The newest verification of each backup kind, newest first. */
function latestPerKind(history: Verification[]): Verification[] {
  const seen = new Set<string>();
  return history.filter((v) => !seen.has(v.kind) && seen.add(v.kind));
}

/** What the resource's verifications say now (from the rows: whichever instance ran them). */
export async function verificationState(
  db: Database,
  resource: { id: string; lastVerifiedRestoreAt: Date | null },
): Promise<VerificationState> {
  const history = await db.restoreVerification.findMany({
    where: { resourceId: resource.id },
    orderBy: { id: "desc" },
    take: 10,
    select: { backup: true, kind: true, ok: true, message: true, finishedAt: true },
  });
  const latest = latestPerKind(history);
  const failed = latest.filter((v) => !v.ok);
  return {
    ok: latest.length ? failed.length === 0 : undefined,
    lastSuccessAt: resource.lastVerifiedRestoreAt,
    failure: failed.length ? failed.map((v) => `${v.backup} did not restore: ${v.message}`).join("; ") : undefined,
    latest,
  };
}

/** The backups to verify: the newest verified one of each kind the store holds. */
export function candidates(backups: StoredBackup[]): StoredBackup[] {
  const newest = (kind: StoredBackup["kind"]) =>
    backups.filter((b) => b.kind === kind && b.verified).sort((a, b) => b.takenAt.localeCompare(a.takenAt))[0];
  return [newest("dump"), newest("base")].filter((b): b is StoredBackup => b !== undefined);
}

/**
 * Whether a database is due: never verified, or its newest verification is an
 * interval old, or a verification that failed has a newer backup of its kind
 * to try, or a kind was never verified (a first base backup).
 */
export function isDue(history: Verification[], backups: StoredBackup[], intervalMs: number, now: Date): boolean {
  const newest = history[0];
  if (!newest || now.getTime() - newest.finishedAt.getTime() >= intervalMs) return true;
  const latest = latestPerKind(history);
  return backups.some((b) => {
    const last = latest.find((v) => v.kind === b.kind);
    return !last || (!last.ok && last.backup !== b.id);
  });
}

export class RestoreVerifier {
  private job?: ScheduledJob;

  constructor(private readonly deps: RestoreVerificationDeps) {}

  /** Declares the job (its poll: the interval, at most an hour, so a repaired backup is tried within it). */
  schedule(scheduler: Scheduler): void {
    const { intervalHours, dockerHostId } = this.deps.settings;
    if (intervalHours <= 0) return;
    const intervalSeconds = Math.min(intervalHours * 3600, 3600);
    this.job = scheduler.every(restoreVerificationJob(dockerHostId), { intervalSeconds, claimSeconds }, async () => {
      await this.runDue();
    });
  }

  start(): void {
    this.job?.start();
  }

  async stop(): Promise<void> {
    await this.job?.stop();
  }

  /** One run: every due database of this Docker host, one at a time (a restore is heavy). Returns the resources verified. */
  async runDue(now = new Date()): Promise<string[]> {
    const { db, settings } = this.deps;
    const deadline = Date.now() + runBudgetMs;
    const databases = await db.resource.findMany({
      where: {
        status: { in: ["ACTIVE", "DEGRADED"] },
        template: { startsWith: "postgres-" },
        // This host's databases, and Kubernetes ones: their store's copy here (automation/kubernetes-backups.ts).
        OR: [{ target: "docker-host", OR: [{ dockerHostId: settings.dockerHostId }, { dockerHostId: null }] }, { target: "kubernetes" }],
      },
      include: {
        team: { select: { name: true } },
        restoreVerifications: {
          orderBy: { id: "desc" },
          take: 10,
          select: { backup: true, kind: true, ok: true, message: true, finishedAt: true },
        },
      },
      orderBy: { createdAt: "asc" },
    });
    const verified: string[] = [];
    for (const resource of databases) {
      if (Date.now() > deadline) break;
      // No backup yet is the backups' own problem (the health rounds say it), not a failed restore.
      const backups = candidates(readBackupStore(storeDir(settings.backupsDir, resource.hostName)).backups);
      if (!backups.length || !isDue(resource.restoreVerifications, backups, settings.intervalHours * 3_600_000, now)) continue;
      for (const backup of backups) await this.verify(resource, backup);
      verified.push(resource.id);
      await this.deps.afterVerifying?.(resource.id);
    }
    return verified;
  }

  private async verify(
    resource: {
      id: string;
      name: string;
      hostName: string;
      template: string;
      progress: number;
      configuration: unknown;
      team: { name: string };
    },
    backup: StoredBackup,
  ): Promise<void> {
    const { db, events, metrics, logger, settings } = this.deps;
    const image = (resource.configuration as { images?: { postgres?: string } } | null)?.images?.postgres ?? settings.defaultImage;
    const startedAt = new Date();
    const check: RestoreCheck = {
      hostName: resource.hostName,
      backupsDir: settings.backupsDir,
      backup: backup.id,
      kind: backup.kind,
      database: databaseNames(resource.hostName).database,
      image,
    };
    let result: RestoreCheckResult;
    try {
      result = await (this.deps.runCheck ?? runRestoreCheck)(check);
    } catch (error) {
      result = {
        ok: false,
        message: errorMessage(error),
        seconds: (Date.now() - startedAt.getTime()) / 1000,
      };
    }
    // Deleted meanwhile (a DELETE removes the scratch container with the rest): nothing to say about it.
    const now = await db.resource.findUnique({ where: { id: resource.id }, select: { status: true } });
    if (now?.status !== "ACTIVE" && now?.status !== "DEGRADED") return;
    const finishedAt = new Date();
    await db.$transaction([
      db.restoreVerification.create({
        data: {
          resourceId: resource.id,
          backup: backup.id,
          kind: backup.kind,
          backupTakenAt: new Date(backup.takenAt),
          ok: result.ok,
          message: result.message,
          tables: result.tables,
          rows: result.rows === undefined ? undefined : BigInt(result.rows),
          seconds: result.seconds,
          startedAt,
          finishedAt,
        },
      }),
      ...(result.ok ? [db.resource.update({ where: { id: resource.id }, data: { lastVerifiedRestoreAt: finishedAt } })] : []),
    ]);
    const seconds = Math.round(result.seconds * 10) / 10;
    const failure = {
      resource: { id: resource.id, name: resource.name, template: resource.template, status: now.status },
      backup: backup.id,
      kind: backup.kind,
      backupTakenAt: backup.takenAt,
      reason: result.message,
    };
    await events.record(
      {
        resourceId: resource.id,
        stage: "backup",
        progress: resource.progress,
        message: result.ok
          ? `restore verified: ${backup.id} ${result.message} in ${seconds} s`
          : `restore verification failed: ${backup.id}: ${result.message}`,
        detail: {
          type: result.ok ? backupEventTypes.restoreVerified : backupEventTypes.restoreVerificationFailed,
          backup: backup.id,
          kind: backup.kind,
          backupTakenAt: backup.takenAt,
          seconds,
          ...(result.ok ? { tables: result.tables, rows: result.rows } : { reason: result.message }),
        },
      },
      // A failure is news for the team's webhooks too (in the same transaction as the event).
      result.ok ? undefined : { type: backupEventTypes.restoreVerificationFailed, data: failure },
    );
    const labels = { resource_id: resource.id, team: resource.team.name, resource: resource.name, template: resource.template };
    metrics.verificationRan(labels, backup.kind, result.ok, result.seconds);
    if (result.ok) logger.info({ resourceId: resource.id, backup: backup.id, seconds }, "restore verified");
    else logger.warn({ resourceId: resource.id, backup: backup.id, seconds, reason: result.message }, "restore verification failed");
  }
}
