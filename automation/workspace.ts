// Pulumi workspaces for the service: one stack per resource, a self-managed
// backend (file:// directory or bucket URL) and the passphrase secrets
// provider, so nothing depends on Pulumi Cloud.
import { LocalWorkspace, type PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation/index.js";

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

export async function openStack(location: StackLocation, program: PulumiFn): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { projectName: location.projectName, stackName: location.stackName, program },
    {
      secretsProvider: "passphrase",
      pulumiCommand: location.pulumiCommand,
      envVars: {
        PULUMI_BACKEND_URL: location.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: location.passphrase,
        // The service runs the engine unattended: no update checks, no prompts.
        PULUMI_SKIP_UPDATE_CHECK: "true",
        ...location.env,
      },
    },
  );
}
