// npm run stack -- <preview|up|refresh|destroy|output> -s <stack> [-c key=value ...] [--show-secrets]
// The engineers' path without the Node language host (which the Go module
// proxy does not serve): the stacks/ program, inline through the Automation
// API, on a stack file of stacks/ read as `pulumi up -s <stack>` reads it.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation/index.js";
import { describeBackend, ensureStateDatabase, resolvePulumiBackend } from "../core/pulumi-backend.js";
import { templateProgram } from "../stacks/program.js";
import { prepareWorkDir, readStackFile, StackFileMissing, type StackFile } from "./stack-files.js";

/** The project of Pulumi.yaml, whose namespace un-prefixed keys belong to (as with `pulumi config`). */
const projectName = "provisioner";
const commands = ["preview", "up", "refresh", "destroy", "output"] as const;
type Command = (typeof commands)[number];
const usage = `usage: npm run stack -- <${commands.join("|")}> -s <stack> [-c <key>=<value> ...] [--show-secrets]`;

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

function parseCommandLine(): { command: Command; stack: string; overrides: Record<string, string>; showSecrets: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        stack: { type: "string", short: "s" },
        config: { type: "string", short: "c", multiple: true },
        "show-secrets": { type: "boolean", default: false },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`, 2);
  }
  const [command, ...rest] = parsed.positionals;
  if (!commands.includes(command as Command) || rest.length || !parsed.values.stack) fail(usage, 2);
  const overrides: Record<string, string> = {};
  for (const pair of parsed.values.config ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) fail(`-c takes <key>=<value>, got ${JSON.stringify(pair)}\n${usage}`, 2);
    overrides[qualified(pair.slice(0, at))] = pair.slice(at + 1);
  }
  return { command: command as Command, stack: parsed.values.stack, overrides, showSecrets: parsed.values["show-secrets"] };
}

const qualified = (key: string) => (key.includes(":") ? key : `${projectName}:${key}`);

function printOutputs(stack: string, outputs: OutputMap, showSecrets: boolean): void {
  const shown = Object.fromEntries(
    Object.entries(outputs).map(([key, { value, secret }]) => [key, secret && !showSecrets ? "[secret]" : value]),
  );
  console.log(`outputs:\n${JSON.stringify(shown, null, 2)}`);
  if (!showSecrets && Object.values(outputs).some((o) => o.secret))
    console.log(`(to see the secret outputs: npm run stack -- output -s ${stack} --show-secrets)`);
}

async function run(stack: Stack, command: Command, showSecrets: boolean): Promise<void> {
  const onOutput = (text: string) => process.stdout.write(text);
  switch (command) {
    case "preview":
      await stack.preview({ onOutput });
      return;
    case "up":
      printOutputs(stack.name, (await stack.up({ onOutput })).outputs, false);
      return;
    case "refresh":
      await stack.refresh({ onOutput });
      return;
    case "destroy":
      await stack.destroy({ onOutput });
      return;
    case "output":
      printOutputs(stack.name, await stack.outputs(), showSecrets);
  }
}

const { command, stack: stackName, overrides, showSecrets } = parseCommandLine();
let file: StackFile;
try {
  file = readStackFile(stackName);
} catch (error) {
  if (error instanceof StackFileMissing) fail(error.message, 2);
  throw error;
}
// The service's backend (its Postgres by default), so both paths see the same stacks.
if (!process.env.PULUMI_BACKEND_URL && !process.env.DATABASE_URL)
  fail("DATABASE_URL or PULUMI_BACKEND_URL must be set (npm run stack sets them)", 2);
const backend = resolvePulumiBackend(process.env.PULUMI_BACKEND_URL, process.env.DATABASE_URL ?? "postgres://unused/");
const backendUrl = backend.url;
if (backendUrl.startsWith("file://")) fs.mkdirSync(new URL(backendUrl).pathname, { recursive: true });
await ensureStateDatabase(backend);
if (!process.env.PULUMI_CONFIG_PASSPHRASE) fail("PULUMI_CONFIG_PASSPHRASE is not set (npm run stack sets the development one)", 2);

const workDir = prepareWorkDir(stackName, backendUrl, file, overrides);
try {
  const stack = await LocalWorkspace.createOrSelectStack(
    { projectName, stackName, program: () => Promise.resolve(templateProgram()) },
    {
      workDir,
      secretsProvider: file.secretsprovider ?? "passphrase",
      // The password of a postgres:// backend in PGPASSWORD, never in the URL the CLI prints.
      envVars: { PULUMI_BACKEND_URL: backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true", ...backend.env },
    },
  );
  console.log(`stack ${stackName} (backend ${describeBackend(backend)}): ${command}`);
  await run(stack, command, showSecrets);
} catch (error) {
  // The engine's own output was streamed above; its error ends the run.
  const message = (error as Error).message;
  const diagnostics = message.split("\n").filter((line) => /^\s*error:/i.test(line));
  fail(`npm run stack: ${command} failed: ${diagnostics.length ? diagnostics.join("\n") : message}`);
}
