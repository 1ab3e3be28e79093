// The Docker-host target: a system deployed as one Compose project, through
// @pulumi/command — on this machine (local.Command) or on a server over SSH
// (remote.Command). Create and update run the same script (write files,
// `up -d --remove-orphans`, wait until healthy); delete takes it all down.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { labelsOf } from "../model/compose.js";
import { downScript, upScript } from "../model/deploy-script.js";
import { ensureVolumesScript, parseVolumesStatus, removeVolumesLines, volumesDir, type VolumesStatus } from "../model/volume-quota.js";
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
   * The host's CPUs (`docker info`'s NCPU): Docker refuses a container whose
   * CPU limit is above them, so limits are capped there. Default: this
   * machine's CPUs on a local host; no cap over SSH.
   */
  cpus?: number;
  /**
   * The open-files limit the host's containers may get: a pooler's is capped
   * there (and the clients it accepts with it). Default: this machine's hard
   * limit on a local host; no cap over SSH.
   */
  openFiles?: number;
  /**
   * Deploy only once this file exists on the host: a new cloud server answers
   * SSH before its cloud-init has installed Docker, and writes this file last.
   */
  readyFile?: string;
  /** How long to wait for `readyFile`. Default: 900 s (a first boot installs Docker). */
  readyTimeoutSeconds?: number;
  /**
   * Test only (PROVISIONER_TEST_VOLUME_MB_PER_GB): each GB of a volume's size
   * becomes this many MB, so a test fills a volume in seconds. Unset: 1024.
   */
  volumeMbPerGb?: number;
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

/**
 * The resource's volumes as a step of its own (create and update: make, grow
 * and mount them; delete: unmount and remove them, after the deployment that
 * uses them is gone), so `pulumi destroy` undoes the mounts. Its status line
 * says whether the sizes are enforced on this host.
 */
export function volumesOnDockerHost(
  name: string,
  model: pulumi.Output<SystemModel>,
  project: string,
  target: DockerHostTarget,
  opts: pulumi.CustomResourceOptions,
): { command: command.local.Command | command.remote.Command; status: pulumi.Output<VolumesStatus | undefined> } {
  const wait = target.readyFile ? `${waitForReadyFile(target.readyFile, target.readyTimeoutSeconds ?? 900)}; ` : "";
  const ensure = model.apply((m) =>
    [
      "set -eu",
      "umask 077",
      ...ensureVolumesScript({ project, projectsDir: target.projectsDir, labels: labelsOf(m), sizesMb: m.volumeSizesMb ?? {} }),
    ].join("\n"),
  );
  const args = {
    create: pulumi.interpolate`${wait}${ensure}`,
    delete: [
      "set -u",
      ...removeVolumesLines(target.projectsDir, project),
      `[ ! -e ${quote(volumesDir(target.projectsDir, project))} ]`,
    ].join("\n"),
    addPreviousOutputInEnv: false,
  };
  const cmd = target.ssh
    ? new command.remote.Command(name, { ...args, update: args.create, connection: target.ssh }, opts)
    : new command.local.Command(name, { ...args, update: args.create }, opts);
  return { command: cmd, status: cmd.stdout.apply((out) => parseVolumesStatus(out)) };
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
