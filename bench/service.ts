// The service under load, measured against baselines taken in the same run:
// - GET /v1/resources (a team with 1,000 resources) p50/p99 from a second
//   process, idle vs while 10 deployments run;
// - 10 small-storage resources requested at once vs 10 × a single one;
// - the service's RSS idle and during the 10 operations; the API process's
//   idle RSS as `npm start` runs it (compiled, tools/bootstrap/compile.ts) vs
//   the baseline of running the sources through tsx with V8's defaults.
// Prints figures; asserts nothing. Run: npm run bench -- service
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { TeamService } from "../api/teams.service.js";
import { serviceCommand } from "../tools/bootstrap/compile.js";
import { client, discardUnfinishedOperations, waitForOperation, type Client } from "../test/service-client.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const db = createDatabase(process.env.DATABASE_URL!);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-service-"));
fs.mkdirSync(path.join(root, "state"));

/** How the service ran before it was compiled: the baseline of the footprint figures. */
const sourcesThroughTsx = ["--import", "tsx", "api/main.ts"];

function startService(nodeArgs: string[]): Promise<{ child: ChildProcess; base: string }> {
  const env = {
    ...process.env,
    PORT: "0",
    LOG_LEVEL: "warn",
    PULUMI_BACKEND_URL: `file://${root}/state`,
    PROVISIONER_PROJECTS_DIR: path.join(root, "projects"),
    PROVISIONER_PUBLISH_IP: "127.0.0.1",
    PULUMI_CONFIG_PASSPHRASE: "bench-passphrase-0123456789",
    PROVISIONER_CREDENTIALS_KEYS: generateKeyringSpec("bench"),
    OPERATION_CONCURRENCY: "10",
  };
  // LOG_LEVEL=warn hides the "listening" line: the port comes from a probe instead.
  const port = 40000 + Math.floor(Math.random() * 10000);
  const child = spawn(process.execPath, nodeArgs, {
    cwd: repoRoot,
    env: { ...env, PORT: String(port) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      fetch(`${base}/healthz`).then(
        () => (clearInterval(poll), resolve({ child, base })),
        () => Date.now() - started > 60_000 && (clearInterval(poll), reject(new Error("the service did not start"))),
      );
    }, 200);
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
/** The operation worker: the service's node child (the engine's processes are the worker's children). */
const workerPid = (servicePid: number) =>
  Number(fs.readFileSync(`/proc/${servicePid}/task/${servicePid}/children`, "utf8").trim().split(/\s+/)[0]);

function listLoad(
  base: string,
  apiKey: string,
  seconds: number,
): Promise<{ p50: number; p99: number; max: number; rps: number; non2xx: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(repoRoot, "bench/list-load.ts"), `${base}/v1/resources?limit=20`, apiKey, String(seconds)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function provision(api: Client, names: string[]): Promise<{ seconds: number; ids: string[] }> {
  const started = performance.now();
  const accepted = await Promise.all(
    names.map((name) => api.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } })),
  );
  const ids = accepted.map((a) => a.body.resource.id as string);
  const done = await Promise.all(accepted.map((a, i) => waitForOperation(api, ids[i]!, a.body.operation.id, 600_000)));
  const seconds = (performance.now() - started) / 1000;
  const failed = done.filter((o) => o.status !== "SUCCEEDED");
  if (failed.length) throw new Error(`${failed.length} creates failed: ${failed[0].error}`);
  return { seconds, ids };
}

async function remove(api: Client, ids: string[]): Promise<void> {
  const accepted = await Promise.all(ids.map((id) => api.delete(`/v1/resources/${id}`)));
  await Promise.all(accepted.map((a, i) => waitForOperation(api, ids[i]!, a.body.operation.id, 600_000)));
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function stop(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
}

/** The API process's RSS right after start and after a 2 s warm-up of listings. */
async function footprint(nodeArgs: string[], apiKey: string): Promise<{ started: number; warm: number }> {
  const { child, base } = await startService(nodeArgs);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const started = rssMb(child.pid!);
    await listLoad(base, apiKey, 2);
    return { started, warm: rssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function main() {
  await discardUnfinishedOperations(db);
  const npmStart = await serviceCommand();
  const { child, base } = await startService(npmStart);
  const teams = new TeamService(db);
  const suffix = crypto.randomBytes(3).toString("hex");
  const lister = await teams.create(`bl${suffix}`, "ENTERPRISE");
  const deployer = await teams.create(`bd${suffix}`, "ENTERPRISE");
  const api = client(base, deployer.apiKey);
  try {
    // 1,000 rows in the listing team: what GET /v1/resources pages through.
    await db.resource.createMany({
      data: Array.from({ length: 1000 }, (_, i) => ({
        teamId: lister.team.id,
        name: `r${i}`,
        hostName: `bench-${suffix}-${i}`,
        template: "small-storage",
        target: "docker-host",
        size: "small",
        status: "ACTIVE" as const,
        cpus: 0.5,
        memoryMb: 512,
        endpoint: { api: `http://127.0.0.1:${20000 + i}`, gateway: `http://127.0.0.1:${21000 + i}` },
      })),
    });
    const baseline = await footprint(sourcesThroughTsx, lister.apiKey);
    const compiled = await footprint(npmStart, lister.apiKey);
    await listLoad(base, lister.apiKey, 2); // warm-up
    const worker = workerPid(child.pid!);
    const idleRss = { api: rssMb(child.pid!), worker: rssMb(worker) };
    const idle = await listLoad(base, lister.apiKey, 10);

    const single = await provision(api, [`one${suffix}`]);
    await remove(api, single.ids);

    const peakRss = { api: 0, worker: 0 };
    const sampler = setInterval(() => {
      peakRss.api = Math.max(peakRss.api, rssMb(child.pid!));
      peakRss.worker = Math.max(peakRss.worker, rssMb(worker));
    }, 200);
    const [loaded, ten] = await Promise.all([
      listLoad(base, lister.apiKey, 15),
      provision(
        api,
        Array.from({ length: 10 }, (_, i) => `ten${i}${suffix}`),
      ),
    ]).finally(() => clearInterval(sampler));
    await remove(api, ten.ids);

    console.log("\nGET /v1/resources?limit=20 (team with 1,000 resources; autocannon, 10 connections, second process)");
    console.log(
      `  idle:                       p50 ${fmt(idle.p50)} ms  p99 ${fmt(idle.p99)} ms  max ${fmt(idle.max)} ms  ${fmt(idle.rps, 0)} req/s  non-2xx ${idle.non2xx}`,
    );
    console.log(
      `  while 10 deployments run:   p50 ${fmt(loaded.p50)} ms  p99 ${fmt(loaded.p99)} ms  max ${fmt(loaded.max)} ms  ${fmt(loaded.rps, 0)} req/s  non-2xx ${loaded.non2xx}`,
    );
    console.log(`  p99 ratio loaded/idle: ${fmt(loaded.p99 / Math.max(idle.p99, 0.001), 2)}×   (goal: p99 < 50 ms)`);
    console.log("\nsmall-storage through the service (request → operation SUCCEEDED, resource ACTIVE)");
    console.log(`  one alone:        ${fmt(single.seconds)} s`);
    console.log(
      `  10 at once:       ${fmt(ten.seconds)} s   vs 10 × one = ${fmt(10 * single.seconds)} s   ratio ${fmt(ten.seconds / (10 * single.seconds), 2)}×`,
    );
    console.log("\nAPI process RSS: sources through tsx, V8 defaults (baseline) vs compiled as npm start runs it");
    for (const [when, key] of [
      ["after start", "started"],
      ["after a 2 s warm-up", "warm"],
    ] as const) {
      console.log(
        `  ${when.padEnd(20)} baseline ${fmt(baseline[key])} MB   npm start ${fmt(compiled[key])} MB   ratio ${fmt(compiled[key] / baseline[key], 2)}×   (goal: idle < 200 MB)`,
      );
    }
    console.log("\nRSS as npm start runs the service (the Pulumi CLIs and plugins not included)");
    for (const which of ["api", "worker"] as const) {
      console.log(
        `  ${which.padEnd(6)} process: idle ${fmt(idleRss[which])} MB   peak during 10 operations ${fmt(peakRss[which])} MB   ratio ${fmt(peakRss[which] / idleRss[which], 2)}×`,
      );
    }
  } finally {
    await db.resource.deleteMany({ where: { teamId: lister.team.id } });
    await stop(child);
    await db.$disconnect();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
