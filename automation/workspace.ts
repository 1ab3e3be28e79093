// Pulumi workspaces for the service: one stack per resource, a self-managed
// backend (file:// directory or bucket URL) and the passphrase secrets
// provider, so nothing depends on Pulumi Cloud.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import {
  LocalWorkspace,
  type LocalWorkspaceOptions,
  type PulumiCommand,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation/index.js";

export interface StackLocation {
  projectName: string;
  stackName: string;
  /** e.g. file:///var/lib/provisioner/state or s3://bucket/prefix */
  backendUrl: string;
  /** Encrypts the stack's secrets (PULUMI_CONFIG_PASSPHRASE). */
  passphrase: string;
  /** Extra environment for the CLI and its plugins. */
  env?: Record<string, string>;
  /** The CLI to run; default: `pulumi` from PATH, checked for every workspace. */
  pulumiCommand?: PulumiCommand;
}

function workspaceOptions(location: StackLocation): LocalWorkspaceOptions {
  return {
    secretsProvider: "passphrase",
    pulumiCommand: location.pulumiCommand,
    envVars: {
      PULUMI_BACKEND_URL: location.backendUrl,
      PULUMI_CONFIG_PASSPHRASE: location.passphrase,
      // The service runs the engine unattended: no update checks, no prompts.
      PULUMI_SKIP_UPDATE_CHECK: "true",
      ...location.env,
    },
  };
}

export async function openStack(location: StackLocation, program: PulumiFn): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { projectName: location.projectName, stackName: location.stackName, program },
    workspaceOptions(location),
  );
}

/** The directory of a `file://` backend; undefined for any other kind. */
function localBackendDir(backendUrl: string): string | undefined {
  return backendUrl.startsWith("file://") ? fileURLToPath(backendUrl.replace(/\?.*$/, "")) : undefined;
}

/**
 * A `file://` backend's directory, created if missing: the CLI refuses one
 * that does not exist, and the default lives in a fresh checkout's `.data/`.
 */
export function ensureLocalBackend(backendUrl: string): void {
  const dir = localBackendDir(backendUrl);
  if (dir) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * The stack if the backend has it; undefined when it certainly does not (no
 * such stack, or a `file://` backend whose directory is missing, so no stack
 * was ever written there). Any other failure (an unreachable bucket) is thrown:
 * absence is never assumed.
 */
export async function findStack(location: StackLocation, program: PulumiFn): Promise<Stack | undefined> {
  const dir = localBackendDir(location.backendUrl);
  if (dir && !fs.existsSync(dir)) return undefined;
  try {
    return await LocalWorkspace.selectStack(
      { projectName: location.projectName, stackName: location.stackName, program },
      workspaceOptions(location),
    );
  } catch (error) {
    if (/no stack named/i.test(String((error as Error).message))) return undefined;
    throw error;
  }
}
