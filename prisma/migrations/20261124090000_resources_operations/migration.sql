-- CreateEnum
CREATE TYPE "OperationKind" AS ENUM ('CREATE', 'UPDATE', 'REFRESH', 'DELETE');

-- CreateEnum
CREATE TYPE "OperationStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- DropIndex
DROP INDEX "resources_team_id_status_idx";

-- DropIndex
DROP INDEX "resources_team_id_name_key";

-- AlterTable
ALTER TABLE "resources" ADD COLUMN     "configuration" JSONB,
ADD COLUMN     "cpus" DECIMAL(8,2) NOT NULL,
ADD COLUMN     "credentials_ciphertext" BYTEA,
ADD COLUMN     "credentials_key_id" VARCHAR(32),
ADD COLUMN     "deleted_at" TIMESTAMPTZ(3),
ADD COLUMN     "drift" JSONB,
ADD COLUMN     "endpoint" JSONB,
ADD COLUMN     "last_error" TEXT,
ADD COLUMN     "memory_mb" INTEGER NOT NULL,
ADD COLUMN     "options" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "progress" SMALLINT NOT NULL DEFAULT 0,
ADD COLUMN     "stack_seen_at" TIMESTAMPTZ(3),
ADD COLUMN     "stage" VARCHAR(16);

-- CreateTable
CREATE TABLE "operations" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "resource_id" UUID NOT NULL,
    "kind" "OperationKind" NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'QUEUED',
    "params" JSONB NOT NULL DEFAULT '{}',
    "lease_owner" VARCHAR(64),
    "lease_expires_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cancel_requested_at" TIMESTAMPTZ(3),
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" BIGSERIAL NOT NULL,
    "resource_id" UUID NOT NULL,
    "operation_id" UUID,
    "stage" VARCHAR(16) NOT NULL,
    "progress" SMALLINT NOT NULL,
    "message" TEXT NOT NULL,
    "detail" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "team_id" UUID NOT NULL,
    "api_key_id" UUID,
    "resource_id" UUID,
    "action" VARCHAR(32) NOT NULL,
    "detail" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "port_allocations" (
    "host" VARCHAR(255) NOT NULL,
    "port" INTEGER NOT NULL,
    "resource_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,

    CONSTRAINT "port_allocations_pkey" PRIMARY KEY ("host","port")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "team_id" UUID NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "resource_id" UUID NOT NULL,
    "operation_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("team_id","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "operations_seq_key" ON "operations"("seq");

-- CreateIndex
CREATE INDEX "operations_status_seq_idx" ON "operations"("status", "seq");

-- CreateIndex
CREATE INDEX "operations_resource_id_seq_idx" ON "operations"("resource_id", "seq");

-- CreateIndex
CREATE INDEX "events_resource_id_id_idx" ON "events"("resource_id", "id");

-- CreateIndex
CREATE INDEX "audit_log_team_id_created_at_idx" ON "audit_log"("team_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "port_allocations_resource_id_name_key" ON "port_allocations"("resource_id", "name");

-- CreateIndex
CREATE INDEX "resources_team_id_created_at_id_idx" ON "resources"("team_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "resources_status_idx" ON "resources"("status");

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "port_allocations" ADD CONSTRAINT "port_allocations_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- A team's live resources have distinct names; a deleted one frees its name
-- (partial index: not expressible in schema.prisma).
CREATE UNIQUE INDEX "resources_team_id_name_live_key" ON "resources"("team_id", "name") WHERE "status" <> 'DELETED';
