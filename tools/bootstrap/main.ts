// The set-up behind `npm start` and `npm test`: every step uses what the machine
// has, else falls back (install, start, download, build), and says which.
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { ensureCompose, ensureDocker } from "./docker.js";
import { ipfsClusterBuild, ensureImages } from "./images.js";
import { BootstrapError, say } from "./log.js";
import { applyMigrations } from "./migrations.js";
import { repoRoot } from "./paths.js";
import { ensurePostgres } from "./postgres.js";
import { ensurePrismaClient } from "./prisma-client.js";
import { ensurePulumi } from "./pulumi.js";

type Mode = "start" | "test" | "bench" | "create-team";

/** What create-team needs: the database, migrated. */
async function prepareDatabase(): Promise<NodeJS.ProcessEnv> {
  await ensurePrismaClient();
  const databaseUrl = await ensurePostgres("provisioner");
  await applyMigrations(databaseUrl);
  return { ...process.env, DATABASE_URL: databaseUrl };
}

async function prepare(mode: Mode): Promise<NodeJS.ProcessEnv> {
  const started = Date.now();
  await ensurePrismaClient();
  await ensureDocker();
  const compose = await ensureCompose();
  say(`compose: using ${compose}`);
  const databaseUrl = await ensurePostgres(mode === "start" ? "provisioner" : "provisioner_test");
  const applied = await applyMigrations(databaseUrl);
  say(applied.length ? `database: applied ${applied.join(", ")}` : "database: migrations up to date");
  const pulumiEnv = await ensurePulumi();
  const imageEnv = await ensureImages();
  const env: NodeJS.ProcessEnv = { ...process.env, ...pulumiEnv, ...imageEnv, DATABASE_URL: databaseUrl, PROVISIONER_COMPOSE: compose };
  if (mode === "test") {
    // The official client, for tests that check a cluster the way users would.
    env.PATH = `${await ipfsClusterBuild()}${path.delimiter}${env.PATH}`;
    // A real sshd (started by the test on a spare port) for the SSH target.
    await ensureDebianPackages(["openssh-server"], "the SSH target's tests");
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return env;
}

async function main(): Promise<void> {
  const mode = process.argv[2] as Mode;
  if (mode === "create-team") {
    const env = await prepareDatabase();
    const tool = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "tools", "create-team.ts"), ...process.argv.slice(3)], { cwd: repoRoot, env, stdio: "inherit" });
    tool.on("exit", (code) => process.exit(code ?? 1));
    return;
  }
  if (mode !== "start" && mode !== "test" && mode !== "bench") throw new Error("usage: bootstrap start|test|bench|create-team [args]");
  const env = await prepare(mode);
  if (mode === "start") {
    Object.assign(process.env, env);
    await import("../../api/main.js");
    return;
  }
  if (mode === "bench") {
    say("running the benchmarks");
    const bench = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "bench", "deploy.ts")], { cwd: repoRoot, env, stdio: "inherit" });
    bench.on("exit", (code) => process.exit(code ?? 1));
    return;
  }
  say("running the tests (vitest)");
  const vitest = spawn(path.join(repoRoot, "node_modules", ".bin", "vitest"), ["run", ...process.argv.slice(3)], {
    cwd: repoRoot,
    env,
    stdio: "inherit",
  });
  vitest.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((error: unknown) => {
  if (error instanceof BootstrapError) {
    process.stderr.write(`\n[bootstrap] error: ${error.message}\n${error.hint ? `[bootstrap] ${error.hint}\n` : ""}`);
  } else {
    process.stderr.write(`\n[bootstrap] unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
