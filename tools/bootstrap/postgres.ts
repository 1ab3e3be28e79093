// The control-plane database: DATABASE_URL if given, else a local cluster in .data/.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { ensureDebianPackages } from "./apt.js";
import { probe, runLogged } from "./exec.js";
import { BootstrapError, say } from "./log.js";
import { dataDir } from "./paths.js";

const clusterDir = path.join(dataDir, "postgres");
const socketDir = path.join(dataDir, "postgres-run");
const passwordFile = path.join(dataDir, "postgres.password");
const logFile = path.join(dataDir, "postgres.log");
const superuser = "provisioner";

function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, "bin") : undefined;
}

/** initdb and postgres refuse to run as root: run them as the `postgres` user then. */
function asClusterOwner(binary: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

function chownToClusterOwner(target: string): void {
  if (process.getuid?.() !== 0) return;
  const owner = fs.statSync("/var/lib/postgresql", { throwIfNoEntry: false });
  if (owner) fs.chownSync(target, owner.uid, owner.gid);
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

async function initCluster(binDir: string): Promise<void> {
  say(`postgres: creating a local cluster in ${path.relative(process.cwd(), clusterDir) || clusterDir}`);
  // .data must stay traversable by the cluster's owner; only the cluster itself is private.
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(clusterDir, { mode: 0o700 });
  chownToClusterOwner(clusterDir);
  const password = crypto.randomBytes(24).toString("base64url");
  // initdb reads the password from a file its (non-root) user can read; removed right after.
  const pwfile = path.join(clusterDir, "..", `.initdb-pw-${process.pid}`);
  fs.writeFileSync(pwfile, password, { mode: 0o600 });
  chownToClusterOwner(pwfile);
  try {
    const [file, args] = asClusterOwner(path.join(binDir, "initdb"), [
      "-D", clusterDir, "-U", superuser, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C",
    ]);
    await runLogged(file, args, logFile, { step: "postgres: initdb" });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.writeFileSync(passwordFile, password, { mode: 0o600 });
}

async function startCluster(binDir: string, port: number): Promise<void> {
  const status = await probe(...asClusterOwner(path.join(binDir, "pg_ctl"), ["status", "-D", clusterDir]));
  if (status.ok) return;
  if (await portAnswers(port)) {
    throw new BootstrapError(
      `postgres: port ${port} is already in use by another program.`,
      "Choose another port with PROVISIONER_PG_PORT=<port>, or point DATABASE_URL at an existing database.",
    );
  }
  fs.mkdirSync(socketDir, { recursive: true });
  chownToClusterOwner(socketDir);
  fs.closeSync(fs.openSync(logFile, "a"));
  chownToClusterOwner(logFile);
  say(`postgres: starting the local cluster on 127.0.0.1:${port} (log: ${logFile})`);
  const options = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`;
  const [file, args] = asClusterOwner(path.join(binDir, "pg_ctl"), ["start", "-w", "-t", "60", "-D", clusterDir, "-l", logFile, "-o", options]);
  const started = await probe(file, args, 90_000);
  if (!started.ok) {
    throw new BootstrapError(`postgres: the local cluster did not start: ${started.stderr.trim()}`, `See its log: ${logFile}`);
  }
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
 * Returns the connection URL of the control-plane database `database`,
 * starting a local cluster when DATABASE_URL is not set.
 */
export async function ensurePostgres(database: string): Promise<string> {
  if (process.env.DATABASE_URL) {
    say("postgres: using DATABASE_URL");
    return process.env.DATABASE_URL;
  }
  let binDir = findBinDir();
  if (!binDir) {
    await ensureDebianPackages(["postgresql"], "a local control-plane database");
    binDir = findBinDir();
    if (!binDir) throw new BootstrapError("postgres: the postgresql package installed no server binaries.");
  }
  const port = Number(process.env.PROVISIONER_PG_PORT ?? 54329);
  if (!fs.existsSync(path.join(clusterDir, "PG_VERSION"))) await initCluster(binDir);
  else say(`postgres: reusing the local cluster in .data/postgres`);
  await startCluster(binDir, port);

  const password = encodeURIComponent(fs.readFileSync(passwordFile, "utf8").trim());
  const server = `postgresql://${superuser}:${password}@127.0.0.1:${port}`;
  await ensureDatabase(`${server}/postgres`, database);
  return `${server}/${database}`;
}
