// Deleted databases keep their backup store (their final dump) for
// BACKUP_RETENTION_AFTER_DELETE_DAYS, restorable by their team; then this job
// (once per hour across all instances, through the scheduler) removes it.
import fs from "node:fs";
import type { Logger } from "pino";
import type { Database } from "../core/db.js";
import { pruneStore, storeDir, storeTargets } from "../core/backup-store.js";
import type { Scheduler } from "../core/scheduler.js";

export const backupRetentionJob = "backup-retention";

export async function pruneDeletedStores(db: Database, backupsDir: string, days: number, logger: Logger): Promise<string[]> {
  const before = new Date(Date.now() - days * 86_400_000);
  const expired = await db.resource.findMany({
    where: { status: "DELETED", target: { in: storeTargets }, template: { startsWith: "postgres-" }, deletedAt: { lt: before } },
    select: { id: true, hostName: true },
  });
  const removed: string[] = [];
  for (const resource of expired) {
    const dir = storeDir(backupsDir, resource.hostName);
    if (!fs.existsSync(dir)) continue;
    pruneStore(dir);
    removed.push(resource.id);
    logger.info({ resourceId: resource.id }, "backup store of a deleted database removed after its retention");
  }
  return removed;
}

export function scheduleBackupRetention(scheduler: Scheduler, db: Database, backupsDir: string, days: number, logger: Logger) {
  return scheduler.every(backupRetentionJob, { intervalSeconds: 3600 }, async () => {
    await pruneDeletedStores(db, backupsDir, days, logger);
  });
}
