-- Several service instances on one Postgres: which Docker host a resource runs on,
-- and which instance ran an operation.
ALTER TABLE "resources" ADD COLUMN "docker_host_id" VARCHAR(63);
ALTER TABLE "operations" ADD COLUMN "ran_by" VARCHAR(64);

-- Resources made before ran on the one Docker host of their single instance,
-- whose PROVISIONER_DOCKER_HOST_ID default is "local".
UPDATE "resources" SET "docker_host_id" = 'local' WHERE "target" = 'docker-host';
