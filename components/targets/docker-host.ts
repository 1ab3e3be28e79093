// The Docker-host target: a system deployed as one Compose project, through
// @pulumi/command — on this machine (local.Command) or on a server over SSH
// (remote.Command). Create and update run the same script (write files,
// `up -d --remove-orphans`, wait until healthy); delete takes it all down.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { downScript, upScript } from "../model/deploy-script.js";
import type { SystemModel } from "../model/system.js";

export interface SshConnection {
  host: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  user?: pulumi.Input<string>;
  privateKey?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  /** The server's public host key (authorized_keys format); without it any host key is accepted. */
  hostKey?: pulumi.Input<string>;
  /** Dial attempts before giving up (@pulumi/command's default: 10). */
  dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per dial attempt (default 15). */
  perDialTimeout?: pulumi.Input<number>;
}

export interface DockerHostTarget {
  /** Omit to deploy on the machine running Pulumi. */
  ssh?: SshConnection;
  /** Folder on the Docker host holding one directory per project. */
  projectsDir: string;
  /** Folder on the Docker host holding each resource's backup store; it outlives the resources. Default: defaultBackupsDir. */
  backupsDir?: string;
  /** How long to wait for the containers to become healthy. */
  healthTimeoutSeconds?: number;
  /**
   * Deploy only once this file exists on the host: a new cloud server answers
   * SSH before its cloud-init has installed Docker, and writes this file last.
   */
  readyFile?: string;
  /** How long to wait for `readyFile`. Default: 900 s (a first boot installs Docker). */
  readyTimeoutSeconds?: number;
}

export { defaultBackupsDir } from "../templates/postgres-backup.js";

// The script comes on stdin: a temp file keeps compose from reading it as input.
const runScript = (step: "create" | "update") => `f=$(mktemp) && cat > "$f" && sh "$f" ${step}; rc=$?; rm -f "$f"; exit $rc`;

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Waits for the host's ready file; on time-out says why, with what cloud-init
 * reports when the host has it.
 */
export function waitForReadyFile(file: string, timeoutSeconds: number): string {
  return [
    `i=0; until [ -e ${quote(file)} ]; do`,
    `i=$((i + 5)); if [ $i -gt ${timeoutSeconds} ]; then echo "the host is not ready after ${timeoutSeconds} s: ${file} is missing" >&2;`,
    "command -v cloud-init >/dev/null && cloud-init status --long >&2; exit 1; fi; sleep 5; done",
  ].join(" ");
}

/** Creates the Command that deploys `model`; its stdout ends when the system is healthy. */
export function deployToDockerHost(
  name: string,
  model: pulumi.Output<SystemModel>,
  project: string,
  target: DockerHostTarget,
  opts: pulumi.CustomResourceOptions,
): command.local.Command | command.remote.Command {
  const scriptOptions = { projectsDir: target.projectsDir, healthTimeoutSeconds: target.healthTimeoutSeconds ?? 300 };
  const wait = target.readyFile ? `${waitForReadyFile(target.readyFile, target.readyTimeoutSeconds ?? 900)}; ` : "";
  const args = {
    create: wait + runScript("create"),
    update: wait + runScript("update"),
    delete: downScript(project, scriptOptions),
    // The script carries the Compose file, and so the generated credentials.
    stdin: pulumi.secret(model.apply((m) => upScript(m, scriptOptions))),
    // The previous run's output is not needed, and would grow the state.
    addPreviousOutputInEnv: false,
  };
  // Replacing runs the old project's `down` first: both would own the same names.
  const options = { ...opts, deleteBeforeReplace: true };
  if (target.ssh) {
    return new command.remote.Command(name, { ...args, connection: target.ssh }, options);
  }
  return new command.local.Command(name, args, options);
}
