-- Restore verifications (issue 12, part 4): each scheduled restore of a database's
-- latest backup into a scratch container, checked with a query, and its result.
CREATE TABLE "restore_verifications" (
    "id" BIGSERIAL NOT NULL,
    "resource_id" UUID NOT NULL,
    "backup" VARCHAR(128) NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "backup_taken_at" TIMESTAMPTZ(3) NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "message" TEXT NOT NULL,
    "tables" INTEGER,
    "rows" BIGINT,
    "seconds" DOUBLE PRECISION NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "restore_verifications_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "restore_verifications_resource_id_id_idx" ON "restore_verifications"("resource_id", "id");

ALTER TABLE "restore_verifications" ADD CONSTRAINT "restore_verifications_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
