// The set-up behind `npm start`, `npm test`, `npm run bench`, `npm run stack`,
// `npm run create-team` and `npm run rotate-credentials-key`: every step uses what the machine
// has, else falls back (install, start, download, build), and says which.
// It then runs the command as its child and stays its parent: on SIGINT or
// SIGTERM it stops the child, then the local database it needed.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { serviceCommand } from "./compile.js";
import { ensureDevScrapeToken, ensureDevSecrets } from "./dev-secrets.js";
import { ensureConsole } from "./console.js";
import { ensureCompose, ensureDocker } from "./docker.js";
import { ipfsClusterBuild, ensureImages } from "./images.js";
import { ensureKubernetesCluster, ensureKubernetesPlugin, imageUserIds, type KubernetesCluster } from "./kubernetes.js";
import { BootstrapError, say, sayAfter } from "./log.js";
import { applyMigrations } from "./migrations.js";
import { dataDir, repoRoot } from "./paths.js";
import { describeBackend, ensureStateDatabase, resolvePulumiBackend } from "../../core/pulumi-backend.js";
import { ensurePostgres, stopLocalCluster, type LocalCluster } from "./postgres.js";
import { ensurePrismaClient } from "./prisma-client.js";
import { ensurePulumi } from "./pulumi.js";
import { ensureSchemathesis } from "./schemathesis.js";
import { ensureStripeMock } from "./stripe-mock.js";

type Mode = "start" | "test" | "bench" | "stack" | "migrate-state" | "create-team" | "rotate-credentials-key";

/** The local cluster this command runs on, stopped when the command ends. */
let localCluster: LocalCluster | undefined;
/** The Kubernetes test cluster this command started, stopped when it ends. */
let kubernetesCluster: KubernetesCluster | undefined;

/** The control-plane database, migrated, with its client generated. */
async function prepareDatabase(database: string, mode?: Mode): Promise<string> {
  await ensurePrismaClient();
  const { databaseUrl, local } = await ensurePostgres(database);
  localCluster = local;
  const applied = await applyMigrations(databaseUrl);
  say(applied.length ? `database: applied ${applied.join(", ")}` : "database: migrations up to date");
  await preparePulumiState(databaseUrl, mode);
  return databaseUrl;
}

/** Written into .data/pulumi-state by npm run migrate-state once every stack there is in the new backend. */
const migratedMarker = "MIGRATED";

/** The Pulumi state's own database beside the control plane's (the default backend); the service checks it again at start. */
async function preparePulumiState(databaseUrl: string, mode?: Mode): Promise<void> {
  // Stacks in the earlier default (a file backend in .data/pulumi-state) that
  // migrate-state has not moved: the service keeps using them, so no resource
  // is left without its stack by the change of default.
  const earlierDefault = path.join(dataDir, "pulumi-state");
  const stacksThere = fs.existsSync(path.join(earlierDefault, ".pulumi", "stacks"));
  const usesState = mode === "start" || mode === "stack";
  if (!process.env.PULUMI_BACKEND_URL && usesState && stacksThere && !fs.existsSync(path.join(earlierDefault, migratedMarker))) {
    process.env.PULUMI_BACKEND_URL = `file://${earlierDefault}`;
    say(
      `pulumi state: .data/pulumi-state holds stacks of the earlier default: still using it; npm run migrate-state moves them into Postgres`,
    );
    return;
  }
  const backend = resolvePulumiBackend(process.env.PULUMI_BACKEND_URL, databaseUrl);
  if (!backend.postgres) {
    say(`pulumi state: PULUMI_BACKEND_URL (${describeBackend(backend).split("://")[0]}://)`);
    return;
  }
  const { created } = await ensureStateDatabase(backend);
  say(`pulumi state: ${created ? "created" : "using"} database ${backend.postgres.database} (${describeBackend(backend)})`);
}

async function prepare(mode: Mode): Promise<NodeJS.ProcessEnv> {
  const started = Date.now();
  await ensureDocker();
  say(`compose: using ${await ensureCompose()}`);
  // `npm run stack` and `migrate-state` use the service's database: its Pulumi state lives beside it.
  const databaseUrl = await prepareDatabase(mode === "test" ? "provisioner_test" : "provisioner", mode);
  const pulumiEnv = await ensurePulumi();
  const imageEnv = await ensureImages();
  // ssh-keygen makes the cloud targets' per-resource SSH keys.
  await ensureDebianPackages(["openssh-client"], "the cloud targets' SSH keys");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...pulumiEnv,
    ...imageEnv,
    ...ensureDevSecrets(process.env),
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
  };
  // The web console the service serves at / (a build of the operator's own when PROVISIONER_CONSOLE_DIR names one).
  if (mode !== "stack" && !process.env.PROVISIONER_CONSOLE_DIR) env.PROVISIONER_CONSOLE_DIR = await ensureConsole();
  if (mode === "test") {
    // The official client, for tests that check a cluster the way users would.
    env.PATH = `${await ipfsClusterBuild()}${path.delimiter}${env.PATH}`;
    // A real sshd (started by the test on a spare port) for the SSH target;
    // `cloud-init schema` validates the cloud targets' user data.
    await ensureDebianPackages(["openssh-server", "cloud-init"], "the SSH target's and cloud-init tests");
    // A real Prometheus (started by test/monitoring.test.ts) runs the project's prometheus.yml.
    await ensureDebianPackages(["prometheus"], "the monitoring test");
    // Debian's chromium, driven by playwright-core (test/console.test.ts): no browser download.
    await ensureDebianPackages(["chromium"], "the web console's browser tests");
    // Schemathesis checks the service against its OpenAPI document.
    env.PROVISIONER_SCHEMATHESIS = await ensureSchemathesis();
    // Stripe's API mock, for the billing tests (started by the tests that use it).
    env.PROVISIONER_STRIPE_MOCK = await ensureStripeMock();
    // The Kubernetes target's tests: a real cluster (KUBECONFIG's, else a local 2-node one) and the provider plugin.
    // Only when the run includes them (the whole suite, test/kubernetes-target.test.ts or
    // test/kubernetes-networkpolicy.test.ts): starting it costs a minute.
    const files = process.argv.slice(3).filter((a) => !a.startsWith("-"));
    if (files.length === 0 || files.some((f) => /kubernetes-(target|networkpolicy)/.test(f))) await useKubernetesCluster(env, imageEnv);
  } else if (mode === "bench" && process.argv.slice(3).includes("kubernetes")) {
    // The Kubernetes bench (opt-in: `npm run bench -- kubernetes`) deploys onto the same cluster the tests use.
    await useKubernetesCluster(env, imageEnv);
  } else if (process.env.PROVISIONER_KUBECONFIG) {
    await ensureKubernetesPlugin(env);
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return env;
}

/**
 * The Kubernetes test cluster (KUBECONFIG's, else the local 2-node one, started
 * now and stopped by finish()) and the provider plugin, for the tests and the bench.
 * PROVISIONER_TEST_KUBECONFIG, not PROVISIONER_KUBECONFIG: only the tests and benches that ask for the target get it.
 */
async function useKubernetesCluster(env: NodeJS.ProcessEnv, imageEnv: Record<string, string>): Promise<void> {
  await ensureKubernetesPlugin(env);
  kubernetesCluster = await ensureKubernetesCluster(imageEnv);
  env.PROVISIONER_TEST_KUBECONFIG = kubernetesCluster.kubeconfig;
  env.PROVISIONER_TEST_KUBERNETES_PUBLIC_HOST = kubernetesCluster.publicHost;
  if (kubernetesCluster.nodeControl) env.PROVISIONER_TEST_KUBERNETES_NODE_CONTROL = kubernetesCluster.nodeControl;
  if (kubernetesCluster.firewall) env.PROVISIONER_TEST_KUBERNETES_FIREWALL = kubernetesCluster.firewall;
  if (kubernetesCluster.binDir) env.PATH = `${kubernetesCluster.binDir}${path.delimiter}${env.PATH}`;
  env.PROVISIONER_KUBERNETES_USER_IDS ??= JSON.stringify(await imageUserIds(imageEnv));
}

let child: ChildProcess | undefined;
let stopping = false;

/** Stops what this command started (the local database), then exits with `code`. */
async function finish(code: number): Promise<never> {
  if (kubernetesCluster?.stop) {
    const stopping = Date.now();
    await kubernetesCluster
      .stop()
      .then(() => sayAfter(`kubernetes: stopped the local cluster (${((Date.now() - stopping) / 1000).toFixed(1)}s)`))
      .catch((error: unknown) => sayAfter(`kubernetes: could not stop the local cluster: ${String(error)}`));
  }
  if (localCluster)
    await stopLocalCluster(localCluster, { report: sayAfter }).catch((error: unknown) =>
      sayAfter(`postgres: could not stop the local cluster: ${String(error)}`),
    );
  process.exit(code);
}

/**
 * The first SIGINT or SIGTERM goes to the child (Ctrl-C in a terminal also
 * reaches npm, which forwards it again: only the first counts); the database
 * is stopped once the child has exited. Before the child runs, the bootstrap
 * stops at once.
 */
function onSignal(signal: NodeJS.Signals, why: string = signal): void {
  if (stopping) {
    say(`${why}: already stopping${child?.pid ? ` (kill -9 ${child.pid} to force)` : ""}`);
    return;
  }
  stopping = true;
  if (child) {
    say(`${why}: stopping (pid ${child.pid}), then the local database`);
    child.kill(signal);
  } else {
    void finish(130);
  }
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// A closed terminal.
process.on("SIGHUP", () => onSignal("SIGTERM", "SIGHUP"));
// `kill <npm's pid>`: npm passes the signal to the shell running the script,
// which dies without passing it on. Orphaned, the bootstrap stops as if told to.
const parentAtStart = process.ppid;
setInterval(() => {
  if (!stopping && process.ppid !== parentAtStart) onSignal("SIGTERM", `the parent process (pid ${parentAtStart}) is gone`);
}, 1000).unref();

/** Runs another program to its end and returns its exit code. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group: a terminal's Ctrl-C reaches it once, through onSignal.
    child = spawn(file, args, { cwd: repoRoot, env, stdio: "inherit", detached: true });
    child.on("error", (error) => {
      say(`could not run ${file}: ${error.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      child = undefined;
      resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}

const tsx = (script: string, args: string[] = []) => ["--import", "tsx", path.join(repoRoot, script), ...args];

async function main(): Promise<number> {
  const mode = process.argv[2] as Mode;
  if (mode === "create-team") {
    const env = { ...process.env, DATABASE_URL: await prepareDatabase("provisioner") };
    return run(process.execPath, tsx("tools/create-team.ts", process.argv.slice(3)), env);
  }
  if (mode === "rotate-credentials-key") {
    // The keyring `npm start` uses: the environment's, else the development one.
    const env = { ...process.env, ...ensureDevSecrets(process.env), DATABASE_URL: await prepareDatabase("provisioner") };
    return run(process.execPath, tsx("tools/rotate-credentials-key.ts", process.argv.slice(3)), env);
  }
  if (mode !== "start" && mode !== "test" && mode !== "bench" && mode !== "stack" && mode !== "migrate-state")
    throw new Error("usage: bootstrap start|test|bench|stack|migrate-state|create-team|rotate-credentials-key [args]");
  const env = await prepare(mode);
  if (mode === "start")
    return run(process.execPath, await serviceCommand(), {
      ...env,
      ...ensureDevScrapeToken(env),
      PROVISIONER_PARENT_PID: String(process.pid),
    });
  if (mode === "stack") return run(process.execPath, tsx("tools/stack.ts", process.argv.slice(3)), env);
  if (mode === "migrate-state") return run(process.execPath, tsx("tools/migrate-state.ts", process.argv.slice(3)), env);
  if (mode === "bench") {
    // npm run bench [-- deploy|service|pooler|state-backend|restore|kubernetes]: the first four by default, one after the other
    // (restore and kubernetes are opt-in: kubernetes costs the local cluster's start and stop).
    const benches = process.argv.length > 3 ? process.argv.slice(3) : ["deploy", "service", "pooler", "state-backend"];
    for (const bench of benches) {
      say(`running the ${bench} benchmark`);
      const code = await run(process.execPath, tsx(`bench/${bench}.ts`), env);
      if (code !== 0 || stopping) return code;
    }
    return 0;
  }
  say("running the tests (vitest)");
  return run(path.join(repoRoot, "node_modules", ".bin", "vitest"), ["run", ...process.argv.slice(3)], env);
}

main().then(finish, async (error: unknown) => {
  if (error instanceof BootstrapError) {
    process.stderr.write(`\n[bootstrap] error: ${error.message}\n${error.hint ? `[bootstrap] ${error.hint}\n` : ""}`);
  } else {
    process.stderr.write(`\n[bootstrap] unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  }
  await finish(1);
});
