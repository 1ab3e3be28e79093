// The control plane's one backup, for real: a resource made on the old default
// (a file backend), its stack moved into Postgres by `migrate-state` (twice:
// the second moves nothing), then the README's drill: pg_dump of the control
// plane and its state database (with the secrets kept beside), the databases
// dropped, restored into a fresh Postgres cluster, the service started on it:
// the resource is still managed (GET, refresh in sync, DELETE leaves nothing).
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { stateDatabaseName } from "../core/pulumi-backend.js";
import { applyMigrations } from "../tools/bootstrap/migrations.js";
import { leftovers } from "./deployment.js";
import { docker } from "./docker.js";
import { storedResource } from "./rows.js";
import { freePort } from "./net.js";
import { client, waitForOperation, waitForStatus } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const binDir = path.join(
  "/usr/lib/postgresql",
  fs
    .readdirSync("/usr/lib/postgresql")
    .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
    .sort((x, y) => Number(y) - Number(x))[0]!,
  "bin",
);
const asRoot = process.getuid?.() === 0;

/** A Postgres server's URL with a database. */
const withDatabase = (serverUrl: URL, database: string) => Object.assign(new URL(serverUrl.href), { pathname: `/${database}` }).href;

/** libpq's connection arguments for pg_dump/pg_restore; the password in PGPASSWORD, never an argument. */
function libpq(url: URL): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ["-h", url.hostname, "-p", url.port, "-U", decodeURIComponent(url.username)],
    env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
  };
}

async function admin(serverUrl: URL, sql: string): Promise<void> {
  const connection = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await connection.connect();
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/** A fresh Postgres cluster (initdb) on a free port, as the restore's new machine; run as `postgres` under root. */
async function freshCluster(root: string): Promise<{ url: URL; stop: () => Promise<void> }> {
  const dir = path.join(root, "fresh");
  // The log and socket beside the cluster, in a folder its owner may write.
  const runDir = path.join(root, "fresh-run");
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.mkdirSync(runDir, { mode: 0o700 });
  const password = crypto.randomBytes(18).toString("hex");
  const pwfile = path.join(root, "fresh-pw");
  fs.writeFileSync(pwfile, password, { mode: 0o600 });
  if (asRoot) {
    const { uid, gid } = fs.statSync("/var/lib/postgresql");
    fs.chmodSync(root, 0o755);
    fs.chownSync(dir, uid, gid);
    fs.chownSync(runDir, uid, gid);
    fs.chownSync(pwfile, uid, gid);
  }
  const as = (binary: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", path.join(binDir, binary), ...args]) : run(path.join(binDir, binary), args);
  await as("initdb", ["-D", dir, "-U", "restorer", `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C"]);
  fs.rmSync(pwfile);
  const port = await freePort();
  await as("pg_ctl", [
    "start",
    "-w",
    "-D",
    dir,
    "-l",
    path.join(runDir, "postgres.log"),
    "-o",
    `-p ${port} -k ${runDir} -c listen_addresses=127.0.0.1`,
  ]);
  return {
    url: new URL(`postgresql://restorer:${password}@127.0.0.1:${port}/`),
    stop: async () => void (await as("pg_ctl", ["stop", "-D", dir, "-m", "fast"])),
  };
}

describe("the control plane's backup: migrate the state into Postgres, dump, wipe, restore into a fresh Postgres", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-drill-"));
  const source = new URL(process.env.DATABASE_URL!);
  source.pathname = "/";
  source.search = "";
  const database = `drill_${crypto.randomBytes(4).toString("hex")}`;
  // The secrets backed up beside the dump: the state passphrase and the credentials keys.
  const secrets = { PULUMI_CONFIG_PASSPHRASE: "drill-passphrase-0123456789", PROVISIONER_CREDENTIALS_KEYS: generateKeyringSpec("drill") };
  const common = { ...secrets, PROVISIONER_PROJECTS_DIR: path.join(root, "projects"), HEALTH_CHECK_INTERVAL_SECONDS: "0" };
  let server: TestServer | undefined;
  let fresh: Awaited<ReturnType<typeof freshCluster>> | undefined;

  let project: string | undefined;

  afterAll(async () => {
    await server?.close();
    // What a failed run left in Docker (a passing run's DELETE removed it all).
    if (project) {
      const filter = `label=provisioner.project=${project}`;
      const containers = (await docker("ps", "-aq", "--filter", filter)).split("\n").filter(Boolean);
      if (containers.length) await docker("rm", "-fv", ...containers);
      for (const kind of ["volume", "network"]) {
        const ids = (await docker(kind, "ls", "-q", "--filter", filter)).split("\n").filter(Boolean);
        if (ids.length) await docker(kind, "rm", ...ids);
      }
    }
    await fresh?.stop().catch(() => undefined);
    for (const name of [database, stateDatabaseName(database)])
      await admin(source, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("keeps managing the resource: GET, refresh in sync, DELETE leaves nothing", { timeout: 600_000 }, async () => {
    await admin(source, `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    const databaseUrl = withDatabase(source, database);
    await applyMigrations(databaseUrl);

    // 1. A resource on the old default backend, a directory.
    const fileBackend = `file://${path.join(root, "state")}`;
    fs.mkdirSync(path.join(root, "state"));
    server = await startTestServer({ ...common, DATABASE_URL: databaseUrl, PULUMI_BACKEND_URL: fileBackend });
    const db = createDatabase(databaseUrl);
    const { apiKey } = await new TeamService(db).create(`r${crypto.randomBytes(3).toString("hex")}`, "PRO");
    // This database's port table is not the other tests' (they allocate from 19000 up, in theirs):
    // its low ports are held by a placeholder so the two never pick the same port at once.
    const placeholderTeam = (await new TeamService(db).create(`r${crypto.randomBytes(3).toString("hex")}`, "PRO")).team;
    const placeholder = await storedResource(db, placeholderTeam.id, { status: "DELETED" });
    await db.portAllocation.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({ host: "local", port: 19000 + i, resourceId: placeholder.id, name: `held${i}` })),
    });
    await db.$disconnect();
    let api = client(server.base, apiKey);
    const created = await api.post("/v1/resources", { template: "small-storage", name: "kept", options: { publicNetwork: false } });
    const id: string = created.body.resource.id;
    project = hostNameOf(id);
    expect((await waitForStatus(api, id, ["ACTIVE", "FAILED"])).status).toBe("ACTIVE");
    const credentials = (await api.get(`/v1/resources/${id}/credentials`)).body;
    await server.close();
    server = undefined;

    // 2. Its stack moved into the Postgres backend (the default beside DATABASE_URL); a second run moves nothing.
    const migrate = () =>
      run(process.execPath, ["--import", "tsx", "tools/migrate-state.ts", "--from", fileBackend], {
        cwd: repoRoot,
        env: { ...process.env, ...common, DATABASE_URL: databaseUrl, PULUMI_BACKEND_URL: "" },
      });
    const first = await migrate();
    expect(first.stdout).toMatch(/: migrated, refresh found no change/);
    expect(first.stdout).toMatch(/migrated 1, already there 0, failed 0/);
    const second = await migrate();
    expect(second.stdout).toMatch(/migrated 0, already there 1, failed 0/);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(decodeURIComponent(source.password));

    // 3. The backup: both databases dumped (the secrets above are kept apart), then wiped.
    const { args, env } = libpq(source);
    for (const name of [database, stateDatabaseName(database)])
      await run(path.join(binDir, "pg_dump"), [...args, "-Fc", "-f", path.join(root, `${name}.dump`), name], { env });
    for (const name of [database, stateDatabaseName(database)])
      await admin(source, `DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`);

    // 4. Restored into a fresh Postgres; the service started there with the same secrets finds everything.
    fresh = await freshCluster(root);
    const target = libpq(fresh.url);
    for (const name of [database, stateDatabaseName(database)])
      await run(
        path.join(binDir, "pg_restore"),
        [...target.args, "--create", "--no-owner", "--no-acl", "-d", "postgres", path.join(root, `${name}.dump`)],
        {
          env: target.env,
        },
      );
    server = await startTestServer({ ...common, DATABASE_URL: withDatabase(fresh.url, database), PULUMI_BACKEND_URL: "" });
    expect(server.config.pulumiBackendUrl).toMatch(
      new RegExp(`^postgres://restorer@127\\.0\\.0\\.1:${fresh.url.port}/${database}_pulumi\\?`),
    );
    api = client(server.base, apiKey);
    expect((await api.get(`/v1/resources/${id}`)).body).toMatchObject({ id, status: "ACTIVE" });
    expect((await api.get(`/v1/resources/${id}/credentials`)).body).toEqual(credentials);
    const refresh = await api.post(`/v1/resources/${id}/refresh`);
    expect(await waitForOperation(api, id, refresh.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
    expect((await api.get(`/v1/resources/${id}`)).body).toMatchObject({ status: "ACTIVE", drift: { inSync: true } });
    const deleted = await api.delete(`/v1/resources/${id}`);
    expect(await waitForOperation(api, id, deleted.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
    expect(await leftovers(hostNameOf(id))).toEqual([]);
  });
});
