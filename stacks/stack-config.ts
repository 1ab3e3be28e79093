// Stack configuration → the TemplateSystem's arguments: the engineers' path
// (`pulumi up -s <stack>`) builds exactly what the service builds.
import type * as pulumi from "@pulumi/pulumi";
import type { TemplateSystemArgs } from "../components/template-system.js";
import type { CloudTargets } from "../components/targets/cloud/index.js";

/**
 * What a stack's `provisioner:*` configuration holds (see the samples next to
 * this file). A cloud (`provisioner:hetzner`, `:digitalocean` or `:aws`)
 * replaces the Docker host; its credentials are the provider's own
 * configuration (`hcloud:token`, `digitalocean:token`, `aws:region` and the
 * AWS environment), never the provisioner's.
 */
export interface StackConfig extends CloudTargets {
  template: string;
  name: string;
  team: string;
  size?: string;
  options?: Record<string, unknown>;
  ports: Record<string, number>;
  /** Folder on the Docker host holding one directory per project. */
  projectsDir?: string;
  /** Deploy over SSH; the private key comes from the secret `provisioner:sshPrivateKey`. */
  ssh?: { host: string; port?: number; user?: string };
  publicHost?: string;
}

export const defaultProjectsDir = "/var/lib/provisioner/projects";

export function argsFromConfig(config: StackConfig, sshPrivateKey?: pulumi.Input<string>): TemplateSystemArgs {
  return {
    template: config.template,
    name: config.name,
    team: config.team,
    size: config.size,
    options: config.options,
    ports: config.ports,
    publicHost: config.publicHost,
    ...(config.hetzner || config.digitalocean || config.aws
      ? { hetzner: config.hetzner, digitalocean: config.digitalocean, aws: config.aws }
      : {
          target: {
            projectsDir: config.projectsDir ?? defaultProjectsDir,
            ssh: config.ssh && { ...config.ssh, privateKey: sshPrivateKey },
          },
        }),
  };
}
