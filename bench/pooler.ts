// postgres-small as its users meet it under load: pgbench through the
// published PgBouncer at 20, 200 and 2,000 clients (TPC-B-like, the pool mode
// of the template's default, transaction). Prints tps, p95 latency and
// failures per level; asserts nothing. Run: npm run bench -- pooler
import crypto from "node:crypto";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { testDeployment } from "../test/deployment.js";

const execFileAsync = promisify(execFile);
const levels = (process.env.BENCH_POOLER_CLIENTS ?? "20,200,2000").split(",").map(Number);
/**
 * Transactions per level, shared by its clients (-t per client): pgbench's -T
 * clock starts before the clients have connected, and connecting 2,000 clients
 * (SCRAM at the client and at PgBouncer) takes longer than a short run.
 */
const transactions = Number(process.env.BENCH_POOLER_TRANSACTIONS ?? 10_000);
const scale = Number(process.env.BENCH_POOLER_SCALE ?? 10);

interface Connection {
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
}

/**
 * pgbench with the password in its environment (never in its arguments), and
 * an open-files limit for its clients: each is a socket, and 2,000 is above
 * the usual soft limit of 1,024.
 */
async function pgbench(c: Connection, args: string[], cwd: string, files = 1024): Promise<{ code: number; output: string }> {
  const script = `ulimit -n ${files} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec pgbench "$@"`;
  try {
    const { stdout, stderr } = await execFileAsync(
      "sh",
      ["-c", script, "pgbench", "-h", c.host, "-p", c.port, "-U", c.username, ...args, c.database],
      { cwd, env: { ...process.env, PGPASSWORD: c.password }, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: (e.stdout ?? "") + (e.stderr ?? "") };
  }
}

/** p95 of the per-transaction latencies pgbench logged (-l: one file per thread; the third field is µs, or "failed"). */
function p95FromLogs(dir: string): { p95Ms: number; logged: number; failedInLog: number } {
  const latencies: number[] = [];
  let failedInLog = 0;
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("pgbench_log"))) {
    for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
      const fields = line.split(" ");
      if (fields.length < 3) continue;
      if (fields[2] === "failed" || fields[2] === "skipped") failedInLog++;
      else latencies.push(Number(fields[2]) / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    p95Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))] ?? NaN,
    logged: latencies.length,
    failedInLog,
  };
}

const figure = (output: string, pattern: RegExp) => output.match(pattern)?.[1];

async function level(c: Connection, clients: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-pooler-${clients}-`));
  try {
    const threads = Math.min(clients, os.availableParallelism());
    const perClient = Math.max(1, Math.round(transactions / clients));
    const run = await pgbench(c, ["-c", String(clients), "-j", String(threads), "-t", String(perClient), "-l"], dir, clients + 256);
    const logged = p95FromLogs(dir);
    const failed = Number(figure(run.output, /number of failed transactions: (\d+)/) ?? 0);
    const errors = run.output.split("\n").filter((l) => /error|FATAL|aborted/i.test(l));
    return {
      clients,
      output: run.output,
      exit: run.code,
      tps: Number(figure(run.output, /tps = ([\d.]+)/) ?? NaN),
      p95Ms: logged.p95Ms,
      transactions: Number(figure(run.output, /number of transactions actually processed: (\d+)/) ?? 0),
      failed: failed + logged.failedInLog,
      connectMs: Number(figure(run.output, /initial connection time = ([\d.]+) ms/) ?? NaN),
      errors,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const deployment = await testDeployment({ template: "postgres-small", name: "benchpool", team: "bench", resourceId: crypto.randomUUID() });
try {
  const { endpoint, credentials } = await deployment.up();
  const c: Connection = {
    host: endpoint.host!,
    port: endpoint.port!,
    database: endpoint.database!,
    username: credentials.username!,
    password: credentials.password!,
  };
  const psql = async (database: string, sql: string) =>
    (
      await execFileAsync("psql", ["-h", c.host, "-p", c.port, "-U", c.username, "-d", database, "-XAtc", sql], {
        env: { ...process.env, PGPASSWORD: c.password },
      })
    ).stdout.trim();
  const pooler = (await psql("pgbouncer", "SHOW CONFIG"))
    .split("\n")
    .map((l) => l.split("|"))
    .filter(([key]) => ["max_client_conn", "default_pool_size", "reserve_pool_size", "max_db_connections", "pool_mode"].includes(key!))
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
  const server = await psql(
    c.database,
    "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings " +
      "WHERE name IN ('max_connections','shared_buffers','effective_cache_size','work_mem')",
  );
  console.log(
    `postgres-small (${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB); pgbench -s ${scale} (TPC-B-like), ${transactions} transactions per level; tps without the initial connection time`,
  );
  console.log(`  pooler: ${pooler}`);
  console.log(`  server: ${server}`);
  const init = await pgbench(c, ["-i", "-q", "-s", String(scale)], os.tmpdir());
  if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.output}`);
  console.log(`  load average before the runs: ${os.loadavg()[0]!.toFixed(1)} (the figures share the machine with whatever else runs)`);
  console.log("  clients |      tps |  p95 latency | transactions | failures | connect (all clients)");
  for (const clients of levels) {
    const r = await level(c, clients);
    console.log(
      `  ${String(r.clients).padStart(7)} | ${r.tps.toFixed(0).padStart(8)} | ${r.p95Ms.toFixed(1).padStart(9)} ms | ${String(r.transactions).padStart(12)} | ${String(r.failed + (r.exit === 0 ? 0 : 1)).padStart(8)} | ${(r.connectMs / 1000).toFixed(1)} s`,
    );
    if (r.exit !== 0 || r.errors.length || Number.isNaN(r.tps))
      console.log(`    pgbench exited ${r.exit}: ${(r.errors.length ? r.errors : r.output.split("\n")).slice(-8).join(" / ")}`);
  }
} finally {
  await deployment.destroy();
}
