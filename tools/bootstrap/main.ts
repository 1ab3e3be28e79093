// The set-up behind `npm start`, `npm test`, `npm run bench` and
// `npm run create-team`: every step uses what the machine
// has, else falls back (install, start, download, build), and says which.
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { ensureDevScrapeToken, ensureDevSecrets } from "./dev-secrets.js";
import { ensureCompose, ensureDocker } from "./docker.js";
import { ipfsClusterBuild, ensureImages } from "./images.js";
import { BootstrapError, say } from "./log.js";
import { applyMigrations } from "./migrations.js";
import { repoRoot } from "./paths.js";
import { ensurePostgres } from "./postgres.js";
import { ensurePrismaClient } from "./prisma-client.js";
import { ensurePulumi } from "./pulumi.js";

type Mode = "start" | "test" | "bench" | "create-team";

/** The control-plane database, migrated, with its client generated. */
async function prepareDatabase(database: string): Promise<string> {
  await ensurePrismaClient();
  const databaseUrl = await ensurePostgres(database);
  const applied = await applyMigrations(databaseUrl);
  say(applied.length ? `database: applied ${applied.join(", ")}` : "database: migrations up to date");
  return databaseUrl;
}

async function prepare(mode: Mode): Promise<NodeJS.ProcessEnv> {
  const started = Date.now();
  await ensureDocker();
  say(`compose: using ${await ensureCompose()}`);
  const databaseUrl = await prepareDatabase(mode === "start" ? "provisioner" : "provisioner_test");
  const pulumiEnv = await ensurePulumi();
  const imageEnv = await ensureImages();
  // ssh-keygen makes the cloud targets' per-resource SSH keys.
  await ensureDebianPackages(["openssh-client"], "the cloud targets' SSH keys");
  const env: NodeJS.ProcessEnv = { ...process.env, ...pulumiEnv, ...imageEnv, ...ensureDevSecrets(process.env), DATABASE_URL: databaseUrl };
  if (mode === "test") {
    // The official client, for tests that check a cluster the way users would.
    env.PATH = `${await ipfsClusterBuild()}${path.delimiter}${env.PATH}`;
    // A real sshd (started by the test on a spare port) for the SSH target;
    // `cloud-init schema` validates the cloud targets' user data.
    await ensureDebianPackages(["openssh-server", "cloud-init"], "the SSH target's and cloud-init tests");
    // A real Prometheus (started by test/monitoring.test.ts) runs the project's prometheus.yml.
    await ensureDebianPackages(["prometheus"], "the monitoring test");
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return env;
}

/** Hands over to another program; its exit code becomes ours. */
function runThenExit(file: string, args: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(file, args, { cwd: repoRoot, env, stdio: "inherit" });
  child.on("exit", (code) => process.exit(code ?? 1));
}

const tsx = (script: string, args: string[] = []) => ["--import", "tsx", path.join(repoRoot, script), ...args];

async function main(): Promise<void> {
  const mode = process.argv[2] as Mode;
  if (mode === "create-team") {
    const env = { ...process.env, DATABASE_URL: await prepareDatabase("provisioner") };
    runThenExit(process.execPath, tsx("tools/create-team.ts", process.argv.slice(3)), env);
    return;
  }
  if (mode !== "start" && mode !== "test" && mode !== "bench") throw new Error("usage: bootstrap start|test|bench|create-team [args]");
  const env = await prepare(mode);
  if (mode === "start") {
    Object.assign(process.env, env, ensureDevScrapeToken(env));
    await import("../../api/main.js");
    return;
  }
  if (mode === "bench") {
    // npm run bench [-- deploy|service]: both by default, one after the other.
    const benches = process.argv.length > 3 ? process.argv.slice(3) : ["deploy", "service"];
    for (const bench of benches) {
      say(`running the ${bench} benchmark`);
      const code = await new Promise<number>((resolve) => spawn(process.execPath, tsx(`bench/${bench}.ts`), { cwd: repoRoot, env, stdio: "inherit" }).on("exit", (c) => resolve(c ?? 1)));
      if (code !== 0) process.exit(code);
    }
    return;
  }
  say("running the tests (vitest)");
  runThenExit(path.join(repoRoot, "node_modules", ".bin", "vitest"), ["run", ...process.argv.slice(3)], env);
}

main().catch((error: unknown) => {
  if (error instanceof BootstrapError) {
    process.stderr.write(`\n[bootstrap] error: ${error.message}\n${error.hint ? `[bootstrap] ${error.hint}\n` : ""}`);
  } else {
    process.stderr.write(`\n[bootstrap] unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
