// postgres-medium for real: streaming replica and point-in-time recovery.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, eventually } from "./docker.js";
import { leftovers, testDeployment, type TestDeployment } from "./deploy.js";

const execFileAsync = promisify(execFile);

describe("postgres-medium on the local Docker host", () => {
  let deployment: TestDeployment;
  let endpoint: Record<string, string>;
  let credentials: Record<string, string>;

  beforeAll(async () => {
    deployment = await testDeployment({ template: "postgres-medium", name: `ledger${process.pid}`, team: "qa", size: "small" });
    ({ endpoint, credentials } = await deployment.up());
  }, 300_000);

  afterAll(async () => {
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 120_000);

  const psql = async (port: string, sql: string) =>
    (
      await execFileAsync("psql", ["-h", endpoint.host!, "-p", port, "-U", credentials.username!, "-d", endpoint.database!, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], {
        env: { ...process.env, PGPASSWORD: credentials.password, PGCONNECT_TIMEOUT: "10" },
      })
    ).stdout.trim();

  it("shows a row written on the primary on the replica within 10 s", { timeout: 60_000 }, async () => {
    await psql(endpoint.port!, "CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, 'ada');");
    const started = Date.now();
    const owner = await eventually(async () => (await psql(endpoint.replicaPort!, "SELECT owner FROM accounts WHERE id = 1").catch(() => "")) || undefined, 10_000, "the row on the replica");
    expect(owner).toBe("ada");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("refuses writes on the replica", async () => {
    await expect(psql(endpoint.replicaPort!, "INSERT INTO accounts VALUES (2, 'bob')")).rejects.toThrow(/read-only transaction/);
  });

  it("restores to a moment before a deletion, bringing the row back", { timeout: 180_000 }, async () => {
    const backup = `${deployment.project}-backup`;
    await docker("exec", backup, "sh", "/etc/provisioner/backup.sh", "base");
    await psql(endpoint.port!, "INSERT INTO accounts VALUES (3, 'grace')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const beforeDeletion = await psql(endpoint.port!, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await psql(endpoint.port!, "DELETE FROM accounts WHERE id = 3");
    // Close the WAL segment holding the deletion, so it is archived now rather than at archive_timeout.
    // (The resource's role owns its instance, as POSTGRES_USER does in the official image.)
    await psql(endpoint.port!, "SELECT pg_switch_wal()");
    expect(await psql(endpoint.port!, "SELECT count(*) FROM accounts WHERE id = 3")).toBe("0");

    const restored = await docker("exec", backup, "sh", "/etc/provisioner/pitr.sh", `${beforeDeletion}+00`);
    expect(restored).toMatch(/restored from \/backups\/base-/);
    const owner = await docker("exec", "-u", "postgres", backup, "psql", "-h", "/tmp", "-p", "5433", "-U", credentials.username!, "-d", endpoint.database!, "-Atc", "SELECT owner FROM accounts WHERE id = 3");
    expect(owner).toBe("grace");
  });
});
