-- Periodic work shared by every service instance: one row per job. An
-- instance runs a job only if it claims the row (nobody running it, and the
-- last run ended at least its interval ago) in one conditional UPDATE;
-- running_until expires the claim of an instance that died mid-run.
CREATE TABLE "jobs" (
    "name" VARCHAR(63) NOT NULL,
    "running_by" VARCHAR(127),
    "running_until" TIMESTAMPTZ(3),
    "last_started_at" TIMESTAMPTZ(3),
    "last_finished_at" TIMESTAMPTZ(3),
    "last_error" TEXT,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("name")
);
