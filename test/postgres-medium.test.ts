// postgres-medium for real: streaming replica and point-in-time recovery.
import { describe, expect, it } from "vitest";
import { docker, eventually } from "./docker.js";
import { hardeningTests } from "./hardening.js";
import { deployForSuite } from "./suite.js";
import { psql } from "./postgres-client.js";

describe("postgres-medium on the local Docker host", () => {
  const suite = deployForSuite({ template: "postgres-medium", name: `ledger${process.pid}`, team: "qa", size: "small" });
  const primary = (sql: string) => psql(suite.endpoint, suite.credentials, sql);
  const replica = (sql: string) => psql(suite.endpoint, suite.credentials, sql, { port: suite.endpoint.replicaPort });

  // Each test writes a table of its own: none relies on another having run.
  // (How fast the replica catches up is measured in bench/, not asserted here.)
  it("shows a row written on the primary on the replica", { timeout: 120_000 }, async () => {
    await primary("CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, 'ada');");
    const owner = await eventually(
      async () => (await replica("SELECT owner FROM accounts WHERE id = 1").catch(() => "")) || undefined,
      90_000,
      "the row on the replica",
    );
    expect(owner).toBe("ada");
  });

  it("refuses writes on the replica", async () => {
    await expect(replica("CREATE TABLE on_replica (id int)")).rejects.toThrow(/read-only transaction/);
  });

  it("restores to a moment before a deletion, bringing the row back", { timeout: 180_000 }, async () => {
    const backup = `${suite.deployment.project}-backup`;
    await primary("CREATE TABLE members (id int PRIMARY KEY, owner text)");
    await docker("exec", backup, "sh", "/etc/provisioner/backup.sh", "base");
    await primary("INSERT INTO members VALUES (3, 'grace')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const beforeDeletion = await primary("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await primary("DELETE FROM members WHERE id = 3");
    // Close the WAL segment holding the deletion, so it is archived now rather than at archive_timeout.
    // (As the server's superuser, inside the container: the resource's role is not one.)
    await docker("exec", "-u", "postgres", `${suite.deployment.project}-postgres`, "psql", "-Atc", "SELECT pg_switch_wal()");
    expect(await primary("SELECT count(*) FROM members WHERE id = 3")).toBe("0");

    const restored = await docker("exec", backup, "sh", "/etc/provisioner/pitr.sh", `${beforeDeletion}+00`);
    expect(restored).toMatch(/restored from \/backups\/base-/);
    const owner = await docker(
      "exec",
      "-u",
      "postgres",
      backup,
      "psql",
      "-h",
      "/tmp",
      "-p",
      "5433",
      "-U",
      suite.credentials.username!,
      "-d",
      suite.endpoint.database!,
      "-Atc",
      "SELECT owner FROM members WHERE id = 3",
    );
    expect(owner).toBe("grace");
  });

  it("refuses COPY ... TO PROGRAM to the resource's role on the replica too", async () => {
    await expect(replica("COPY (SELECT 1) TO PROGRAM 'true'")).rejects.toThrow(
      /permission denied|must be superuser|pg_execute_server_program|read-only/,
    );
    expect(await replica("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).toBe("f");
  });

  hardeningTests(suite);
});
