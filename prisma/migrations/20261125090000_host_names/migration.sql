-- Host-side names (Compose project, containers, volumes, networks, project
-- folder, cloud servers and keys) come from the resource id: `r` + its 32 hex
-- digits. Resources created before keep the `team-name` they run under, so
-- nothing running is disturbed; where two live resources already share one
-- (the collision this fixes), the older keeps it.
ALTER TABLE "resources" ADD COLUMN "host_name" VARCHAR(63);

UPDATE "resources" AS r
SET "host_name" = CASE
    WHEN r."status" <> 'DELETED' AND ranked.rank > 1 THEN 'r' || replace(r."id"::text, '-', '')
    ELSE t."name" || '-' || r."name"
  END
FROM "teams" AS t,
  (SELECT "resources"."id", row_number() OVER (
      PARTITION BY "teams"."name" || '-' || "resources"."name", "resources"."status" = 'DELETED'
      ORDER BY "resources"."created_at", "resources"."id") AS rank
    FROM "resources" JOIN "teams" ON "teams"."id" = "resources"."team_id") AS ranked
WHERE t."id" = r."team_id" AND ranked."id" = r."id";

ALTER TABLE "resources" ALTER COLUMN "host_name" SET NOT NULL;

-- Unique among live resources (a deleted resource's legacy name may come back).
CREATE UNIQUE INDEX "resources_host_name_live_key" ON "resources"("host_name") WHERE "status" <> 'DELETED';
