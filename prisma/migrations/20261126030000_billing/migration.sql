-- Usage metering, budgets and Stripe reporting (issue 15).
-- usage_segments: what a resource ran as, from when to when, at what price:
-- one row per stretch of unchanged size; written by core/resource-status.ts in
-- the transaction of the status move that starts or ends it, so a crash can
-- neither leave a gap nor count twice. At most one open segment per resource.
ALTER TABLE "teams" ADD COLUMN "monthly_budget_cents" INTEGER,
                    ADD COLUMN "stripe_customer_id" VARCHAR(255),
                    ADD COLUMN "stripe_linked_at" TIMESTAMPTZ(3);

CREATE TABLE "usage_segments" (
    "id" BIGSERIAL NOT NULL,
    "resource_id" UUID NOT NULL,
    "team_id" UUID NOT NULL,
    "template" VARCHAR(63) NOT NULL,
    "size" VARCHAR(31) NOT NULL,
    "target" VARCHAR(63) NOT NULL,
    "tier" "Tier" NOT NULL,
    "units" INTEGER NOT NULL,
    "cpus" DECIMAL(8,2) NOT NULL,
    "memory_mb" INTEGER NOT NULL,
    "storage_gb" INTEGER NOT NULL,
    "price_version" VARCHAR(31) NOT NULL,
    "micro_usd_per_hour" BIGINT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "usage_segments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "usage_segments_interval" CHECK ("ended_at" IS NULL OR "ended_at" >= "started_at")
);
CREATE INDEX "usage_segments_team_id_started_at_idx" ON "usage_segments"("team_id", "started_at");
CREATE UNIQUE INDEX "usage_segments_one_open" ON "usage_segments"("resource_id") WHERE "ended_at" IS NULL;
ALTER TABLE "usage_segments" ADD CONSTRAINT "usage_segments_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "usage_segments" ADD CONSTRAINT "usage_segments_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A budget threshold a team's month crossed: told once (the webhook is queued in the same transaction).
CREATE TABLE "budget_alerts" (
    "team_id" UUID NOT NULL,
    "month" CHAR(7) NOT NULL,
    "percent" SMALLINT NOT NULL,
    "cost_cents" INTEGER NOT NULL,
    "budget_cents" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "budget_alerts_pkey" PRIMARY KEY ("team_id", "month", "percent")
);
ALTER TABLE "budget_alerts" ADD CONSTRAINT "budget_alerts_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The outbox of what is reported to Stripe: one row per team and hour, recorded
-- (PENDING) before the meter event is sent and marked SENT after; `identifier`
-- is the meter event's identifier and the request's Idempotency-Key.
CREATE TYPE "UsageReportState" AS ENUM ('PENDING', 'SENT', 'EMPTY');

CREATE TABLE "usage_reports" (
    "id" BIGSERIAL NOT NULL,
    "team_id" UUID NOT NULL,
    "stripe_customer_id" VARCHAR(255) NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "value_cents" INTEGER NOT NULL,
    "identifier" VARCHAR(100) NOT NULL,
    "state" "UsageReportState" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "usage_reports_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "usage_reports_team_id_period_start_key" ON "usage_reports"("team_id", "period_start");
CREATE UNIQUE INDEX "usage_reports_identifier_key" ON "usage_reports"("identifier");
CREATE INDEX "usage_reports_state_idx" ON "usage_reports"("state");
ALTER TABLE "usage_reports" ADD CONSTRAINT "usage_reports_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
