// npm run migrate-state [-- --from <backend URL>]
// Moves every stack of a Pulumi backend (by default the old default,
// file://<repo>/.data/pulumi-state) into the service's backend (by default its
// Postgres): export, init, import, then a refresh that must find no change.
// Idempotent: a stack the target has already is left alone. The source is
// never changed or removed (delete it once the service runs on the new one).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { describeBackend, ensureStateDatabase, resolvePulumiBackend, type PulumiBackend } from "../core/pulumi-backend.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const usage = "usage: npm run migrate-state [-- --from <backend URL, default file://<repo>/.data/pulumi-state>]";

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

/** The earlier default backend of `npm start`. */
const defaultSource = `file://${path.join(repoRoot, ".data", "pulumi-state")}`;
let from: string;
try {
  const { values } = parseArgs({ options: { from: { type: "string" } } });
  from = values.from ?? defaultSource;
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`, 2);
}
const passphrase = process.env.PULUMI_CONFIG_PASSPHRASE;
if (!passphrase) fail("PULUMI_CONFIG_PASSPHRASE is not set (npm run migrate-state sets the development one)", 2);
if (!process.env.PULUMI_BACKEND_URL && !process.env.DATABASE_URL) fail("DATABASE_URL or PULUMI_BACKEND_URL must be set", 2);

const source = resolvePulumiBackend(from, process.env.DATABASE_URL ?? "postgres://unused/");
const target = resolvePulumiBackend(process.env.PULUMI_BACKEND_URL, process.env.DATABASE_URL ?? "postgres://unused/");
if (source.url === target.url) fail(`the source and the target are the same backend (${describeBackend(target)})`, 2);
if (source.url.startsWith("file://") && !fs.existsSync(new URL(source.url).pathname)) {
  console.log(`nothing to migrate: ${describeBackend(source)} does not exist`);
  process.exit(0);
}
await ensureStateDatabase(target);
const secrets = [...source.secrets, ...target.secrets].filter((s) => s.length > 0);
const redact = (text: string) => secrets.reduce((t, s) => t.replaceAll(s, "[redacted]"), text);

/** Runs the CLI against one backend; the password only in its environment. */
async function pulumi(backend: PulumiBackend, args: string[], cwd: string): Promise<string> {
  const env = {
    ...process.env,
    ...backend.env,
    PULUMI_BACKEND_URL: backend.url,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  try {
    const { stdout } = await execFileAsync("pulumi", ["--non-interactive", ...args], { cwd, env, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(redact(`pulumi ${args[0]} ${args[1] ?? ""} failed: ${stderr || stdout || (error as Error).message}`.trim()));
  }
}

interface Listed {
  name: string;
  resourceCount?: number;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-migrate-state-"));
/** A directory holding a Pulumi.yaml of the project: `stack init` needs one. */
function projectDir(project: string): string {
  const dir = path.join(scratch, project.replace(/[^A-Za-z0-9._-]/g, "_"));
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
  }
  return dir;
}

const listAll = async (backend: PulumiBackend) =>
  JSON.parse((await pulumi(backend, ["stack", "ls", "--all", "--json"], scratch)) || "[]") as Listed[];

let migrated = 0;
let skipped = 0;
const failed: string[] = [];
try {
  const stacks = await listAll(source);
  const present = new Map((await listAll(target)).map((s) => [s.name, s.resourceCount ?? 0]));
  console.log(`migrating ${stacks.length} stack(s) from ${describeBackend(source)} to ${describeBackend(target)}`);
  for (const { name: fullName, resourceCount = 0 } of stacks) {
    const [, project] = fullName.split("/");
    // A stack an interrupted run created but did not import into (still empty) is imported again.
    // Never over a target stack that holds anything: it may have been changed since.
    if (present.has(fullName) && (present.get(fullName)! > 0 || resourceCount === 0)) {
      console.log(`${fullName}: already in the target, left alone`);
      skipped++;
      continue;
    }
    const dir = projectDir(project!);
    const file = path.join(dir, "export.json");
    try {
      // Secrets stay encrypted in the export (the same passphrase decrypts them in the target).
      await pulumi(source, ["stack", "export", "-s", fullName, "--file", file], dir);
      if (!present.has(fullName)) await pulumi(target, ["stack", "init", fullName, "--secrets-provider", "passphrase", "--no-select"], dir);
      await pulumi(target, ["stack", "import", "-s", fullName, "--file", file], dir);
      // The proof: the imported state matches what runs.
      // Its message starts as the service's own do (automation/drift.ts): the service must not take it for drift.
      const message = "provisioner: migrate-state: refresh after the import";
      await pulumi(target, ["refresh", "-s", fullName, "--yes", "--skip-preview", "--expect-no-changes", "--message", message], dir);
      console.log(`${fullName}: migrated, refresh found no change`);
      migrated++;
    } catch (error) {
      console.error(`${fullName}: ${(error as Error).message}`);
      failed.push(fullName);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
console.log(`migrated ${migrated}, already there ${skipped}, failed ${failed.length}; the source is unchanged`);
if (failed.length) fail(`not migrated: ${failed.join(", ")} (rerun after fixing: migrated stacks are skipped)`);
// The bootstrap kept the earlier default in use until now (tools/bootstrap/main.ts).
if (from === defaultSource) fs.writeFileSync(path.join(new URL(defaultSource).pathname, "MIGRATED"), `${new Date().toISOString()}\n`);
