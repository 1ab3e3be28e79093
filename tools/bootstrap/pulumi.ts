// The Pulumi CLI and the command provider plugin: use what exists, else
// download, else build from the Go module proxy.
import fs from "node:fs";
import path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { SemVer } from "semver";
import { commandExists, probe, runLogged } from "./exec.js";
import { cachedGoBuild, goBuild } from "./go.js";
import { say } from "./log.js";
import { cacheDir, logDir, repoRoot } from "./paths.js";

interface PackageJson {
  version: string;
  pulumi?: { name: string; version: string };
}

function readPackage(name: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")) as PackageJson;
}

/** The CLI version matching the pinned @pulumi/pulumi SDK. */
export const pulumiVersion = readPackage("@pulumi/pulumi").version;
/** The plugin version the pinned @pulumi/command SDK asks the engine for. */
export const commandPluginVersion = readPackage("@pulumi/command").pulumi!.version;

async function cliVersion(binary: string): Promise<string | undefined> {
  const result = await probe(binary, ["version"]);
  return result.ok ? result.stdout.trim() : undefined;
}

async function downloadCli(): Promise<string | undefined> {
  const root = path.join(cacheDir, "pulumi-download", pulumiVersion);
  try {
    const cmd = await PulumiCommand.install({ root, version: new SemVer(pulumiVersion) });
    return path.dirname(cmd.command);
  } catch {
    return undefined;
  }
}

/** Returns the directory holding a `pulumi` binary to put first on PATH. */
async function ensureCli(): Promise<string> {
  const onPath = await commandExists("pulumi");
  if (onPath) {
    say(`pulumi: using ${onPath} (${await cliVersion(onPath)})`);
    return path.dirname(onPath);
  }
  const downloaded = path.join(cacheDir, "pulumi-download", pulumiVersion, "bin");
  if (fs.existsSync(path.join(downloaded, "pulumi"))) {
    say(`pulumi: using the downloaded CLI ${pulumiVersion}`);
    return downloaded;
  }
  const cliBuild = {
    name: "pulumi-cli",
    module: "pulumi",
    binaries: { pulumi: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" },
    ldflags: `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${pulumiVersion}`,
    label: `Building the Pulumi CLI ${pulumiVersion}`,
  };
  const builtEarlier = cachedGoBuild(cliBuild);
  if (builtEarlier) {
    say(`pulumi: using the CLI ${pulumiVersion} built earlier from the Go module proxy`);
    return builtEarlier;
  }
  say(`pulumi: not on PATH; trying to download CLI ${pulumiVersion}`);
  const fetched = await downloadCli();
  if (fetched) {
    say(`pulumi: downloaded CLI ${pulumiVersion}`);
    return fetched;
  }
  say("pulumi: download unreachable; building the CLI from the Go module proxy");
  const built = await goBuild(cliBuild);
  say(`pulumi: using the CLI built from source (${built})`);
  return built;
}

interface PluginInfo {
  name: string;
  kind: string;
  version: string;
}

async function hasPlugin(env: NodeJS.ProcessEnv, name: string, version: string): Promise<boolean> {
  const listed = await probe("pulumi", ["plugin", "ls", "--json"], 30_000, env);
  if (!listed.ok) return false;
  const plugins = JSON.parse(listed.stdout || "[]") as PluginInfo[];
  return plugins.some((p) => p.kind === "resource" && p.name === name && p.version === version);
}

async function ensureCommandPlugin(env: NodeJS.ProcessEnv): Promise<void> {
  const version = commandPluginVersion;
  if (await hasPlugin(env, "command", version)) {
    say(`pulumi: plugin resource-command ${version} is installed`);
    return;
  }
  const log = path.join(logDir, "pulumi-plugins.log");
  const official = await probe("pulumi", ["plugin", "install", "resource", "command", version], 120_000, env);
  if (official.ok) {
    say(`pulumi: installed the official plugin resource-command ${version}`);
    return;
  }
  say(`pulumi: the official plugin resource-command ${version} cannot be downloaded; building the offline-compatible one`);
  const built = await goBuild({
    name: "pulumi-resource-command",
    module: "pulumi",
    binaries: { "pulumi-resource-command": "./cmd/pulumi-resource-command" },
    label: "Building pulumi-resource-command",
  });
  await runLogged(
    "pulumi",
    ["plugin", "install", "resource", "command", `v${version}`, "--file", path.join(built, "pulumi-resource-command")],
    log,
    { env, step: "pulumi plugin install (offline-compatible resource-command)" },
  );
  say(`pulumi: installed the offline-compatible resource-command ${version}`);
}

/** Makes the Pulumi CLI and plugins available; returns the environment to run them with. */
export async function ensurePulumi(): Promise<NodeJS.ProcessEnv> {
  const binDir = await ensureCli();
  const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` };
  await ensureCommandPlugin(env);
  return { PATH: env.PATH };
}
