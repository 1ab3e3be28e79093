// Restore times (issue 12): a postgres-medium filled by pgbench (scale 7, about
// 110 MB), then (1) a new database from its dump, (2) a new database at a
// point in time before a deletion (base backup + archived WAL), (3) the
// scheduled restore verification of its newest dump and base backup (scratch
// container, every table read). Prints each time; asserts only that the
// restored data is what was written. Run: npm run bench -- restore
import crypto from "node:crypto";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { runRestoreCheck } from "../automation/restore-check.js";
import { databaseNames } from "../components/templates/postgres.js";
import { testDeployment, type TestDeployment } from "../test/deployment.js";

const execFileAsync = promisify(execFile);
const scale = Number(process.env.BENCH_RESTORE_SCALE ?? 7);

const docker = async (...args: string[]) => (await execFileAsync("docker", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

async function psql(endpoint: Record<string, string>, credentials: Record<string, string>, sql: string): Promise<string> {
  const { stdout } = await execFileAsync(
    "psql",
    ["-h", endpoint.host!, "-p", endpoint.port!, "-U", credentials.username!, "-d", endpoint.database!, "-XAtc", sql],
    { env: { ...process.env, PGPASSWORD: credentials.password! } },
  );
  return stdout.trim();
}

/** From the restored server's first log line to its restore script's "restore: done" (docker logs timestamps). */
async function restoreScriptSeconds(project: string): Promise<number> {
  const { stdout, stderr } = await execFileAsync("docker", ["logs", "--timestamps", `${project}-postgres`], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = `${stdout}\n${stderr}`.split("\n").filter(Boolean).sort();
  const at = (line: string | undefined) => (line ? Date.parse(line.split(" ")[0]!) : Number.NaN);
  return (at(lines.find((l) => l.includes("restore: done"))) - at(lines[0])) / 1000;
}

const source = await testDeployment({
  template: "postgres-medium",
  name: "benchrestore",
  team: "bench",
  size: "small",
  resourceId: crypto.randomUUID(),
});
const made: TestDeployment[] = [];
try {
  const { endpoint, credentials } = await source.up();
  const backupsDir = path.join(source.workDir, "backups");
  const init = process.hrtime.bigint();
  await execFileAsync(
    "pgbench",
    ["-h", endpoint.host!, "-p", endpoint.port!, "-U", credentials.username!, "-i", "-q", "-s", String(scale), endpoint.database!],
    { env: { ...process.env, PGPASSWORD: credentials.password! }, maxBuffer: 64 * 1024 * 1024 },
  );
  const size = Number(await psql(endpoint, credentials, "SELECT pg_database_size(current_database())"));
  console.log(
    `postgres-medium (size small), pgbench -i -s ${scale}: ${(size / 2 ** 20).toFixed(0)} MB on disk, ${scale * 100_000} accounts (${seconds(init).toFixed(1)} s)`,
  );
  const written = await docker("exec", `${source.project}-backup`, "sh", "/etc/provisioner/backup.sh", "once");
  const dump = written.match(/backup written: \/backups\/(\S+)/)![1]!;
  const base = written.match(/base backup written: \/backups\/(\S+)/)![1]!;
  console.log(`  backups: ${dump}, ${base}`);

  await new Promise((resolve) => setTimeout(resolve, 1100));
  const beforeDeletion = await psql(endpoint, credentials, `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await psql(endpoint, credentials, "DELETE FROM pgbench_accounts WHERE aid <= 100000");
  await docker("exec", "-u", "postgres", `${source.project}-postgres`, "psql", "-Atc", "SELECT pg_switch_wal()");
  await new Promise((resolve) => setTimeout(resolve, 5000));

  const restore = async (label: string, restoreFrom: { backup?: string; pointInTime?: string }) => {
    const copy = await testDeployment(
      {
        template: "postgres-small",
        name: `benchcopy${made.length}`,
        team: "bench",
        restoreFrom: { hostName: source.project, ...restoreFrom },
      },
      { target: { projectsDir: path.join(source.workDir, "projects"), backupsDir, healthTimeoutSeconds: 900 } },
    );
    made.push(copy);
    const started = process.hrtime.bigint();
    const restored = await copy.up();
    const total = seconds(started);
    const accounts = await psql(restored.endpoint, restored.credentials, "SELECT count(*) FROM pgbench_accounts");
    console.log(
      `  ${label}: ${total.toFixed(1)} s create to healthy (pulumi up), restore script ${(await restoreScriptSeconds(copy.project)).toFixed(1)} s; ${accounts} accounts`,
    );
    if (accounts !== String(scale * 100_000)) throw new Error(`${label}: ${accounts} accounts, expected ${scale * 100_000}`);
  };
  await restore("new database from the dump", { backup: dump });
  await restore("new database at a point in time before the deletion", { pointInTime: beforeDeletion });

  const image = await docker("inspect", "-f", "{{.Config.Image}}", `${source.project}-postgres`);
  const check = { hostName: source.project, backupsDir, database: databaseNames(source.project).database, image };
  for (const [kind, backup] of [
    ["dump", dump],
    ["base", base],
  ] as const) {
    const result = await runRestoreCheck({ ...check, kind, backup });
    console.log(`  restore verification of the ${kind}: ${result.seconds.toFixed(1)} s (${result.message})`);
    if (!result.ok) throw new Error(result.message);
  }
} finally {
  for (const copy of made) await copy.destroy().catch(() => undefined);
  await source.destroy();
}
