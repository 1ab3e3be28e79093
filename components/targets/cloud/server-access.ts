// How the provisioner reaches a cloud server it created: over SSH as a
// dedicated user, with the per-resource key, the server's pinned host key,
// and the same Docker-host deployment as every other target.
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHostTarget } from "../docker-host.js";

/** The only user SSH lets in; in the docker group. */
export const deployUser = "provisioner";
/** Where the data volume is mounted: Docker's data root, the projects and the backup stores. */
export const dataDir = "/srv/provisioner";
export const projectsDir = `${dataDir}/projects`;
/** On the data volume, which is sized for them (the templates' backupStoreGb). */
export const backupsDir = `${dataDir}/backups`;
/** cloud-init's last step writes it, once Docker runs on the data volume. */
export const readyFile = "/var/lib/provisioner/ready";

export interface ServerAccess {
  /** Public address of the server. */
  host: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  user?: string;
  /** The per-resource private key (secret). */
  privateKey: pulumi.Input<string>;
  /** The server's SSH host key (`ssh-ed25519 AAAA...`), pinned: no trust on first use. */
  hostKey?: pulumi.Input<string>;
  projectsDir?: string;
  backupsDir?: string;
  readyFile?: string;
  healthTimeoutSeconds?: number;
}

/**
 * The Docker-host target of a server: what every cloud deploys with, and what
 * the SSH end-to-end test deploys with against a local sshd.
 */
export function cloudServerTarget(access: ServerAccess): DockerHostTarget {
  return {
    ssh: {
      host: access.host,
      port: access.port ?? 22,
      user: access.user ?? deployUser,
      privateKey: access.privateKey,
      hostKey: access.hostKey,
      // A new server's sshd answers a minute or more after the API says it
      // runs: keep dialling (10 s per try) for up to 5 minutes.
      dialErrorLimit: 30,
      perDialTimeout: 10,
    },
    projectsDir: access.projectsDir ?? projectsDir,
    backupsDir: access.backupsDir ?? backupsDir,
    readyFile: access.readyFile ?? readyFile,
    healthTimeoutSeconds: access.healthTimeoutSeconds,
  };
}
