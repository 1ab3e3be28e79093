// /v1/resources/:id/backups and restoreFrom: request and response shapes (zod; the OpenAPI document is made from them).
import { z } from "zod";

const timestamp = z.string().meta({ format: "date-time" });

export const backupView = z.object({
  id: z.string().meta({ description: "The backup's id within the resource's store (restoreFrom.backup takes a dump's)." }),
  kind: z.enum(["dump", "base"]).meta({ description: "dump: pg_dump -Fc; base: a base backup for point-in-time recovery." }),
  takenAt: timestamp,
  sizeBytes: z.number().int(),
  verified: z.boolean().meta({ description: "Checked when it was written (pg_restore --list, size > 0; a base backup's archives read)." }),
  restoreVerifiedAt: timestamp
    .nullable()
    .meta({ description: "When this backup was last restored into a scratch server and read back by the scheduled verification." }),
  reason: z
    .string()
    .optional()
    .meta({ description: "first, scheduled, on-demand, before-upgrade (before an image change) or final (before a DELETE)." }),
});

export const backupsView = z.object({
  backups: z.array(backupView),
  lastBackupAt: timestamp.nullable(),
  lastVerifiedRestoreAt: timestamp.nullable(),
  lastVerification: z
    .object({
      at: timestamp,
      backup: z.string(),
      kind: z.enum(["dump", "base"]),
      ok: z.boolean(),
      message: z.string().meta({ description: "What the check read (tables, rows), or why the restore or the check failed." }),
      seconds: z.number(),
    })
    .nullable()
    .meta({
      description: "The newest scheduled restore verification (BACKUP_VERIFY_INTERVAL_HOURS): a scratch restore checked with a query.",
    }),
  /** Why backups are failing now, if they are. */
  problem: z.string().nullable(),
  failures: z.number().int().meta({ description: "Failed attempts counted by the backup sidecar." }),
  restorableRange: z
    .object({ from: timestamp, to: timestamp })
    .nullable()
    .meta({ description: "postgres-medium: the moments restoreFrom.pointInTime may name." }),
  keptUntil: timestamp.nullable().meta({ description: "A DELETED resource: when its store (final dump included) is removed." }),
});

export const backupRequestedView = z.object({
  requested: z.literal(true),
  message: z.string(),
});

/** POST /v1/resources body's restoreFrom: a dump of the source, or a moment (its PITR window); exactly one (each shape is closed). */
const sourceResource = z.uuid().meta({ description: "The source database (the team's own; a DELETED one while its final dump is kept)." });
export const restoreFromBody = z
  .union(
    [
      z.strictObject({
        resource: sourceResource,
        backup: z.string().regex(/^dumps\/\d{8}T\d{6}Z\.dump$/, "must be a dump's id from GET /v1/resources/{id}/backups"),
      }),
      z.strictObject({
        resource: sourceResource,
        pointInTime: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/, "must be a UTC time, YYYY-MM-DDTHH:MM:SS[.ffffff]Z"),
      }),
    ],
    { error: "must be {resource, backup} or {resource, pointInTime}" },
  )
  .meta({ description: "Create the database from another one's backups (never overwriting it): a dump, or a point in time." });
export type RestoreFromBody = z.infer<typeof restoreFromBody>;
