// The control-plane database: DATABASE_URL if given, else a local cluster for
// this checkout (see postgres-layout.ts for where it lives and why), which the
// command that started it stops again when it ends (stopLocalCluster).
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { ensureDebianPackages } from "./apt.js";
import { probe, runLogged } from "./exec.js";
import { BootstrapError, say } from "./log.js";
import { repoRoot } from "./paths.js";
import { portOwner } from "./port-owner.js";
import { checkoutMarker, clusterLayout, type ClusterLayout } from "./postgres-layout.js";

const superuser = "provisioner";
export const defaultPort = 54329;

/** A running local cluster and how to reach it. */
export interface LocalCluster {
  layout: ClusterLayout;
  binDir: string;
  port: number;
  /** postgresql://provisioner:...@127.0.0.1:<port> (no database). */
  serverUrl: string;
  /** Whether this command started it (else it was running already). */
  startedHere: boolean;
}

function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, "bin") : undefined;
}

async function serverBinaries(): Promise<string> {
  let binDir = findBinDir();
  if (!binDir) {
    await ensureDebianPackages(["postgresql"], "a local control-plane database");
    binDir = findBinDir();
    if (!binDir) throw new BootstrapError("postgres: the postgresql package installed no server binaries.");
  }
  return binDir;
}

function asClusterOwner(layout: ClusterLayout, binary: string, args: string[]): [string, string[]] {
  return layout.runAsPostgres ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

function chownToClusterOwner(layout: ClusterLayout, target: string): void {
  if (!layout.runAsPostgres) return;
  const owner = fs.statSync("/var/lib/postgresql", { throwIfNoEntry: false });
  if (owner) fs.chownSync(target, owner.uid, owner.gid);
}

/** The command a person types to stop a cluster. */
export function stopCommand(layout: Pick<ClusterLayout, "runAsPostgres" | "clusterDir">, binDir: string): string {
  return `${layout.runAsPostgres ? "runuser -u postgres -- " : ""}${path.join(binDir, "pg_ctl")} stop -D ${layout.clusterDir} -m fast`;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function initCluster(layout: ClusterLayout, binDir: string): Promise<void> {
  say(`postgres: creating a local cluster in ${layout.clusterDir}`);
  // The state folder stays traversable by the cluster's owner; only the cluster itself is private.
  fs.mkdirSync(layout.stateDir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(layout.stateDir, checkoutMarker), `${layout.checkout}\n`);
  fs.rmSync(layout.clusterDir, { recursive: true, force: true }); // what a failed initdb left
  fs.mkdirSync(layout.clusterDir, { mode: 0o700 });
  chownToClusterOwner(layout, layout.clusterDir);
  const password = crypto.randomBytes(24).toString("base64url");
  // initdb reads the password from a file its user can read; removed right after.
  const pwfile = path.join(layout.stateDir, `.initdb-pw-${process.pid}`);
  fs.writeFileSync(pwfile, password, { mode: 0o600 });
  chownToClusterOwner(layout, pwfile);
  try {
    const [file, args] = asClusterOwner(layout, path.join(binDir, "initdb"), [
      "-D",
      layout.clusterDir,
      "-U",
      superuser,
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    await runLogged(file, args, layout.logFile, { step: "postgres: initdb" });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.writeFileSync(layout.passwordFile, password, { mode: 0o600 });
}

async function waitForPortFree(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await portAnswers(port))) return true;
    await sleep(200);
  }
  return false;
}

/** The port is taken: by an orphaned cluster of a removed checkout (stopped), or by something we name. */
async function freePortOrExplain(port: number, binDir: string): Promise<void> {
  const owner = await portOwner(port);
  const otherPort = `give this checkout a port of its own: PROVISIONER_PG_PORT=<port> (or point DATABASE_URL at an existing database)`;
  if (owner?.cluster?.orphaned) {
    say(
      `postgres: port ${port} is held by the cluster of a checkout that no longer exists (${owner.cluster.checkout ?? owner.cluster.dataDir}); stopping it`,
    );
    process.kill(owner.pid, "SIGINT"); // the postmaster's fast shutdown
    if (await waitForPortFree(port, 60_000)) return;
    throw new BootstrapError(`postgres: the orphaned cluster on port ${port} (pid ${owner.pid}) did not stop.`, otherPort);
  }
  if (owner?.cluster) {
    const { dataDir, checkout } = owner.cluster;
    throw new BootstrapError(
      `postgres: port ${port} is taken by the local database of another checkout (${checkout ?? "unknown"}; data in ${dataDir}, pid ${owner.pid}).`,
      `If that checkout is idle, stop it: ${stopCommand({ clusterDir: dataDir, runAsPostgres: process.getuid?.() === 0 }, binDir)}\n[bootstrap] Else ${otherPort}.`,
    );
  }
  const what = owner ? `${owner.command} (pid ${owner.pid})` : "another program";
  throw new BootstrapError(`postgres: port ${port} is already in use by ${what}.`, `Stop it, or ${otherPort}.`);
}

/** The port a running cluster listens on: line 4 of its postmaster.pid. */
function runningPort(layout: ClusterLayout): number | undefined {
  try {
    const port = Number(fs.readFileSync(path.join(layout.clusterDir, "postmaster.pid"), "utf8").split("\n")[3]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the cluster unless it runs; returns the port it listens on and whether this call started it. */
async function startCluster(layout: ClusterLayout, binDir: string, port: number): Promise<{ port: number; startedHere: boolean }> {
  const status = await probe(...asClusterOwner(layout, path.join(binDir, "pg_ctl"), ["status", "-D", layout.clusterDir]));
  if (status.ok) {
    // Started by another command of this checkout, maybe with another PROVISIONER_PG_PORT.
    const actual = runningPort(layout) ?? port;
    say(
      `postgres: the local cluster is running already, on port ${actual}${actual !== port ? ` (not ${port}: another command of this checkout started it)` : ""}`,
    );
    return { port: actual, startedHere: false };
  }
  if (await portAnswers(port)) await freePortOrExplain(port, binDir);
  fs.mkdirSync(layout.socketDir, { recursive: true });
  chownToClusterOwner(layout, layout.socketDir);
  fs.closeSync(fs.openSync(layout.logFile, "a"));
  chownToClusterOwner(layout, layout.logFile);
  say(`postgres: starting the local cluster on 127.0.0.1:${port} (log: ${layout.logFile})`);
  const options = `-p ${port} -k ${layout.socketDir} -c listen_addresses=127.0.0.1`;
  const [file, args] = asClusterOwner(layout, path.join(binDir, "pg_ctl"), [
    "start",
    "-w",
    "-t",
    "60",
    "-D",
    layout.clusterDir,
    "-l",
    layout.logFile,
    "-o",
    options,
  ]);
  const started = await probe(file, args, 90_000);
  if (!started.ok) {
    throw new BootstrapError(`postgres: the local cluster did not start: ${started.stderr.trim()}`, `See its log: ${layout.logFile}`);
  }
  return { port, startedHere: true };
}

/** The checkout's local cluster, created and started when needed. */
export async function ensureLocalCluster({
  checkout = repoRoot,
  port = Number(process.env.PROVISIONER_PG_PORT ?? defaultPort),
} = {}): Promise<LocalCluster> {
  const binDir = await serverBinaries();
  const layout = clusterLayout(checkout);
  if (!fs.existsSync(path.join(layout.clusterDir, "PG_VERSION"))) await initCluster(layout, binDir);
  else say(`postgres: reusing the local cluster in ${layout.clusterDir}`);
  const running = await startCluster(layout, binDir, port);
  registerUser(layout);
  const password = encodeURIComponent(fs.readFileSync(layout.passwordFile, "utf8").trim());
  return { layout, binDir, ...running, serverUrl: `postgresql://${superuser}:${password}@127.0.0.1:${running.port}` };
}

/**
 * Every command of the checkout that uses the cluster leaves its pid here: the
 * last one to end stops it. (Counting sessions alone is not enough: `npm test`
 * runs commands of its own, such as `npm run stack`, between test files that
 * hold no connection, and those would stop the cluster under the suite.)
 */
const usersDir = (layout: ClusterLayout) => path.join(layout.stateDir, "postgres-users");

function registerUser(layout: ClusterLayout): void {
  fs.mkdirSync(usersDir(layout), { recursive: true });
  fs.writeFileSync(path.join(usersDir(layout), String(process.pid)), "");
}

/** Unregisters this command; returns the pids of the other commands still running that use the cluster. */
function unregisterUser(layout: ClusterLayout): number[] {
  fs.rmSync(path.join(usersDir(layout), String(process.pid)), { force: true });
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(usersDir(layout));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    if (Number.isInteger(pid) && alive(pid)) return true;
    fs.rmSync(path.join(usersDir(layout), String(pid)), { force: true }); // a command that died without unregistering
    return false;
  });
}

/** Creates `database` on the server if it does not exist yet. */
async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      say(`postgres: created database ${database}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * The connection URL of the control-plane database `database`, and the local
 * cluster it is on when DATABASE_URL is not set.
 */
export async function ensurePostgres(database: string): Promise<{ databaseUrl: string; local?: LocalCluster }> {
  if (process.env.DATABASE_URL) {
    say("postgres: using DATABASE_URL");
    return { databaseUrl: process.env.DATABASE_URL };
  }
  const local = await ensureLocalCluster();
  await ensureDatabase(`${local.serverUrl}/postgres`, database);
  return { databaseUrl: `${local.serverUrl}/${database}`, local };
}

/** Client sessions other than the asking one (e.g. an `npm test` beside an `npm start` of the same checkout). */
async function otherClients(serverUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/**
 * Stops the local cluster when the command that needed it ends, so that no
 * cluster outlives its checkout's commands (a rerun, another checkout or a
 * later CI clone would find its port taken). A cluster another command of
 * this checkout still uses keeps running; that command stops it.
 */
export async function stopLocalCluster(local: LocalCluster, { drainMs = 5_000, report = say } = {}): Promise<void> {
  const commands = unregisterUser(local.layout);
  if (commands.length > 0) {
    report(`postgres: leaving the local cluster running: another command of this checkout uses it (pid ${commands.join(", ")})`);
    return;
  }
  // Sessions of a process that just exited end within moments.
  const deadline = Date.now() + drainMs;
  let others = await otherClients(local.serverUrl).catch(() => 0);
  while (others > 0 && Date.now() < deadline) {
    await sleep(250);
    others = await otherClients(local.serverUrl).catch(() => 0);
  }
  if (others > 0) {
    report(`postgres: leaving the local cluster running: ${others} other session(s) use it`);
    return;
  }
  const [file, args] = asClusterOwner(local.layout, path.join(local.binDir, "pg_ctl"), [
    "stop",
    "-D",
    local.layout.clusterDir,
    "-m",
    "fast",
    "-w",
  ]);
  const stopped = await probe(file, args, 60_000);
  report(
    stopped.ok
      ? "postgres: stopped the local cluster"
      : `postgres: could not stop the local cluster: ${stopped.stderr.trim()} (${stopCommand(local.layout, local.binDir)})`,
  );
}
