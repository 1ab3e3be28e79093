// postgres-small for real: PostgreSQL behind PgBouncer, with backups that restore and cannot fail silently.
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { docker, eventually } from "./docker.js";
import { hardeningTests } from "./hardening.js";
import { deployForSuite } from "./suite.js";
import { psql } from "./postgres-client.js";

describe("postgres-small on the local Docker host", () => {
  const suite = deployForSuite({
    template: "postgres-small",
    name: `orders${process.pid}`,
    team: "qa",
    options: { backupIntervalMinutes: 60, backupRetention: 2 },
  });
  const sql = (statement: string, password?: string) => psql(suite.endpoint, suite.credentials, statement, { password });
  const store = () => path.join(suite.deployment.workDir, "backups", suite.deployment.project);
  const dumps = () =>
    fs
      .readdirSync(path.join(store(), "dumps"))
      .filter((f) => f.endsWith(".dump"))
      .sort();
  const health = async () => docker("inspect", "-f", "{{.State.Health.Status}}", `${suite.deployment.project}-backup`);

  // Each test writes a table of its own: none relies on another having run.
  it("writes and reads a table through PgBouncer with the generated credentials", async () => {
    await sql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two');");
    expect((await sql("SELECT id || ':' || name FROM items ORDER BY id")).split("\n")).toEqual(["1:one", "2:two"]);
  });

  it("took a first backup at create, verified, into the store on the host (not a volume of the resource)", () => {
    const first = dumps()[0]!;
    const meta = JSON.parse(fs.readFileSync(path.join(store(), "dumps", `${first}.json`), "utf8")) as Record<string, unknown>;
    expect(meta).toMatchObject({ kind: "dump", file: `dumps/${first}`, verified: true, reason: "first" });
    expect(meta.sizeBytes).toBeGreaterThan(0);
    expect(fs.statSync(path.join(store(), "dumps", first)).size).toBe(meta.sizeBytes);
    expect(Number(fs.readFileSync(path.join(store(), "state", "last_success"), "utf8"))).toBeGreaterThan(0);
  });

  it("takes a backup that restores into a scratch database with the same rows", async () => {
    await sql("CREATE TABLE shelves (id int PRIMARY KEY, name text); INSERT INTO shelves VALUES (1, 'one'), (2, 'two');");
    const backup = `${suite.deployment.project}-backup`;
    const written = await docker("exec", backup, "sh", "/etc/provisioner/backup.sh", "once");
    const file = written.match(/backup written: (\S+)/)![1]!;
    const restored = await docker(
      "exec",
      backup,
      "sh",
      "-c",
      `export PGPASSWORD="$POSTGRES_PASSWORD"; createdb -h postgres -U "$POSTGRES_USER" scratch && pg_restore -h postgres -U "$POSTGRES_USER" -d scratch --no-owner ${file} && psql -h postgres -U "$POSTGRES_USER" -d scratch -At -c "SELECT id || ':' || name FROM shelves ORDER BY id"`,
    );
    expect(restored.split("\n")).toEqual(["1:one", "2:two"]);
  });

  it("when a dump fails, then the failure is recorded, the sidecar turns unhealthy and the good dumps stay; repaired, it recovers", async () => {
    const kept = dumps();
    // The backup role loses access to one table: pg_dump fails part-way.
    await sql("CREATE TABLE secrets_of_its_own (id int); REVOKE ALL ON secrets_of_its_own FROM current_user;");
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(path.join(store(), "state", "requested"), "");
      await eventually(
        async () => (fs.existsSync(path.join(store(), "state", "requested")) ? undefined : true),
        60_000,
        "the request taken",
      );
      await eventually(async () => (fs.existsSync(path.join(store(), "state", "last_failure")) ? true : undefined), 60_000, "the failure");
    }
    expect(fs.readFileSync(path.join(store(), "state", "last_failure"), "utf8")).toMatch(/pg_dump: .*permission denied/);
    expect(await eventually(async () => ((await health()) === "unhealthy" ? "unhealthy" : undefined), 90_000, "unhealthy")).toBe(
      "unhealthy",
    );
    // Nothing pruned, nothing half-written left.
    expect(dumps()).toEqual(kept);
    expect(fs.readdirSync(path.join(store(), "dumps")).filter((f) => f.endsWith(".partial"))).toEqual([]);

    await sql("GRANT ALL ON secrets_of_its_own TO current_user;");
    fs.writeFileSync(path.join(store(), "state", "requested"), "");
    await eventually(async () => (fs.existsSync(path.join(store(), "state", "last_failure")) ? undefined : true), 60_000, "recovery");
    expect(await eventually(async () => ((await health()) === "healthy" ? "healthy" : undefined), 90_000, "healthy")).toBe("healthy");
    // Retention (2) applies after a verified success only.
    expect(dumps()).toHaveLength(2);
  }, 300_000);

  it("gives the resource's role its database but not the server: not a superuser, COPY ... TO PROGRAM refused", async () => {
    expect(await sql("SELECT rolsuper || ':' || rolcreatedb FROM pg_roles WHERE rolname = current_user")).toBe("false:true");
    expect(await sql("SELECT pg_get_userbyid(datdba) = current_user FROM pg_database WHERE datname = current_database()")).toBe("t");
    await sql("CREATE TABLE owned (id int); DROP TABLE owned;");
    await expect(sql("COPY (SELECT 1) TO PROGRAM 'true'")).rejects.toThrow(/permission denied|must be superuser|pg_execute_server_program/);
    await expect(sql("SELECT pg_read_file('/etc/passwd')")).rejects.toThrow(/permission denied/);
  });

  it("runs the server tuned for its size (2 vCPUs, 4 GB) and PgBouncer with room for thousands of clients", async () => {
    const settings = await sql(
      "SELECT string_agg(name || '=' || current_setting(name), ',' ORDER BY name) FROM pg_settings " +
        "WHERE name IN ('effective_cache_size','max_connections','shared_buffers','work_mem')",
    );
    expect(settings).toBe("effective_cache_size=3GB,max_connections=100,shared_buffers=1GB,work_mem=10MB");
    const inspect = async (service: string, format: string) =>
      docker("inspect", "--format", format, `${suite.deployment.project}-${service}`);
    expect(await inspect("postgres", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.ShmSize}}")).toBe(
      `${2e9} ${4096 * 2 ** 20} ${512 * 2 ** 20}`,
    );
    expect(await inspect("pgbouncer", "{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}/{{.Hard}}{{end}}")).toBe("nofile=11024/11024");
    const limits = await docker("exec", `${suite.deployment.project}-pgbouncer`, "sh", "-c", "ulimit -n");
    expect(limits).toBe("11024");
  });

  it("takes 300 clients at once through PgBouncer (the image's default allowed 100), all answered", async () => {
    const clients = Array.from(
      { length: 300 },
      () =>
        new pg.Client({
          host: suite.endpoint.host,
          port: Number(suite.endpoint.port),
          database: suite.endpoint.database,
          user: suite.credentials.username,
          password: suite.credentials.password,
        }),
    );
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const answers = await Promise.all(clients.map(async (c, i) => (await c.query("SELECT $1::int AS i", [i])).rows[0].i as number));
      expect(answers).toEqual(clients.map((_, i) => i));
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
  });

  hardeningTests(suite);

  it("when the password is wrong, then the connection is refused", async () => {
    await expect(sql("SELECT 1", "wrong-password")).rejects.toThrow(/password authentication failed|SASL authentication failed/);
  });
});
