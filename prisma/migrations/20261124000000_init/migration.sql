-- CreateEnum
CREATE TYPE "ResourceStatus" AS ENUM ('PROVISIONING', 'ACTIVE', 'UPDATING', 'DEGRADED', 'FAILED', 'DELETING', 'DELETED');

-- CreateTable
CREATE TABLE "teams" (
    "id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "teams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "resources" (
    "id" UUID NOT NULL,
    "team_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "template" VARCHAR(63) NOT NULL,
    "target" VARCHAR(63) NOT NULL,
    "size" VARCHAR(31) NOT NULL,
    "status" "ResourceStatus" NOT NULL DEFAULT 'PROVISIONING',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "resources_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "teams_name_key" ON "teams"("name");

-- CreateIndex
CREATE INDEX "resources_team_id_status_idx" ON "resources"("team_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "resources_team_id_name_key" ON "resources"("team_id", "name");

-- AddForeignKey
ALTER TABLE "resources" ADD CONSTRAINT "resources_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

