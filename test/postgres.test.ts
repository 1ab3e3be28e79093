// postgres-small for real: PostgreSQL behind PgBouncer, with backups that restore.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "./docker.js";
import { leftovers, testDeployment, type TestDeployment } from "./deploy.js";

const execFileAsync = promisify(execFile);

describe("postgres-small on the local Docker host", () => {
  let deployment: TestDeployment;
  let endpoint: Record<string, string>;
  let credentials: Record<string, string>;

  beforeAll(async () => {
    deployment = await testDeployment({ template: "postgres-small", name: `orders${process.pid}`, team: "qa" });
    ({ endpoint, credentials } = await deployment.up());
  }, 300_000);

  afterAll(async () => {
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 120_000);

  /** The psql client, through PgBouncer, as a user of the resource would connect. */
  const psql = (sql: string, password = credentials.password!) =>
    execFileAsync("psql", ["-h", endpoint.host!, "-p", endpoint.port!, "-U", credentials.username!, "-d", endpoint.database!, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "10" },
    });

  it("writes and reads a table through PgBouncer with the generated credentials", async () => {
    await psql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two');");
    const { stdout } = await psql("SELECT id || ':' || name FROM items ORDER BY id");
    expect(stdout.trim().split("\n")).toEqual(["1:one", "2:two"]);
  });

  it("takes a backup that restores into a scratch database with the same rows", async () => {
    const backup = `${deployment.project}-backup`;
    const written = await docker("exec", backup, "sh", "/etc/provisioner/backup.sh", "once");
    const file = written.match(/backup written: (\S+)/)![1]!;
    const restored = await docker(
      "exec", backup, "sh", "-c",
      `export PGPASSWORD="$POSTGRES_PASSWORD"; createdb -h postgres -U "$POSTGRES_USER" scratch && pg_restore -h postgres -U "$POSTGRES_USER" -d scratch --no-owner ${file} && psql -h postgres -U "$POSTGRES_USER" -d scratch -At -c "SELECT id || ':' || name FROM items ORDER BY id"`,
    );
    expect(restored.split("\n")).toEqual(["1:one", "2:two"]);
  });

  it("when the password is wrong, then the connection is refused", async () => {
    await expect(psql("SELECT 1", "wrong-password")).rejects.toThrow(/password authentication failed|SASL authentication failed/);
  });
});
