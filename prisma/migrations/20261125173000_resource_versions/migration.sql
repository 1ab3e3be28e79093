-- Image versions a resource was moved to by PATCH {"versions": {...}} (minor upgrades).
ALTER TABLE "resources" ADD COLUMN "versions" JSONB NOT NULL DEFAULT '{}';
