// Stack configuration → the TemplateSystem's arguments: the engineers' path
// (`pulumi up -s <stack>`) builds exactly what the service builds.
import crypto from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { TemplateSystemArgs } from "../components/template-system.js";
import type { CloudTargets } from "../components/targets/cloud/index.js";
import type { KubernetesTarget } from "../components/targets/kubernetes.js";

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
  /**
   * The resource's id (a UUID), which host and cloud names derive from. Default:
   * one derived from the fully qualified stack name, so each stack has its own.
   */
  resourceId?: string;
  /** Folder on the Docker host holding one directory per project. */
  projectsDir?: string;
  /** Deploy over SSH; the private key comes from the secret `provisioner:sshPrivateKey`. */
  ssh?: { host: string; port?: number; user?: string };
  publicHost?: string;
  /**
   * A Kubernetes cluster instead of a Docker host: the kubeconfig comes from the
   * secret `provisioner:kubeconfig` (absent: the engine's in-cluster configuration).
   */
  kubernetes?: Omit<KubernetesTarget, "kubeconfig">;
}

export const defaultProjectsDir = "/var/lib/provisioner/projects";

/** A stable UUID-shaped id for a stack (`org/project/stack`): its own host names, unique per stack. */
export function stackResourceId(qualifiedStack: string): string {
  const hex = crypto.createHash("sha256").update(qualifiedStack).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function argsFromConfig(
  config: StackConfig,
  qualifiedStack: string,
  sshPrivateKey?: pulumi.Input<string>,
  kubeconfig?: string,
): TemplateSystemArgs {
  return {
    template: config.template,
    name: config.name,
    team: config.team,
    resourceId: config.resourceId ?? stackResourceId(qualifiedStack),
    size: config.size,
    options: config.options,
    ports: config.ports,
    publicHost: config.publicHost,
    ...(config.kubernetes
      ? { kubernetes: { ...config.kubernetes, kubeconfig } }
      : config.hetzner || config.digitalocean || config.aws
        ? { hetzner: config.hetzner, digitalocean: config.digitalocean, aws: config.aws }
        : {
            target: {
              projectsDir: config.projectsDir ?? defaultProjectsDir,
              ssh: config.ssh && { ...config.ssh, privateKey: sshPrivateKey },
            },
          }),
  };
}
