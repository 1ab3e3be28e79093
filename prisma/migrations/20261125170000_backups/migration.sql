-- Backups (issue 12): where a restored database comes from, and what the health rounds saw of the backups.
ALTER TABLE "resources" ADD COLUMN "restore_from" JSONB,
ADD COLUMN "last_backup_at" TIMESTAMPTZ(3),
ADD COLUMN "last_verified_restore_at" TIMESTAMPTZ(3);
