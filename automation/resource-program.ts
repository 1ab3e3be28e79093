// The Pulumi program of one resource: the same TemplateSystem component
// engineers use with `pulumi up`, on this machine's Docker host or in a cloud.
import fs from "node:fs";
import type * as awsTypes from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ImageSet } from "../components/images.js";
import type { Versions } from "../components/versions.js";
import { TemplateSystem, type TemplateSystemArgs } from "../components/template-system.js";
import { aws, digitalocean, hcloud } from "../components/targets/cloud/sdk.js";
import type { CloudSettings } from "../core/cloud-settings.js";

export interface ResourceSpec {
  /** docker-host (this machine), hetzner, digitalocean, aws or kubernetes. */
  target: string;
  team: string;
  name: string;
  resourceId: string;
  /** The base of the resource's names on hosts and clouds (see components/templates/host-name.ts). */
  hostName: string;
  template: string;
  size: string;
  options: unknown;
  /** Image versions the resource was moved to (PATCH versions). */
  versions?: Versions;
  ports: Record<string, number>;
  /** A database made from another's backups (the source's store on this host). */
  restoreFrom?: { hostName: string; backup?: string; pointInTime?: string };
}

export interface DockerHostSettings {
  projectsDir: string;
  /** Backup stores; default: the Docker-host target's (defaultBackupsDir). */
  backupsDir?: string;
  publishIp: string;
  publicHost: string;
  images: ImageSet;
  healthTimeoutSeconds: number;
  cloud: CloudSettings;
  /** The Docker host's CPUs (docker-host-cpus.ts): limits above them are capped. Unset: this machine's. */
  cpus?: number;
  /** The open-files limit the Docker host's containers may have (docker-host-limits.ts). Unset: this machine's hard limit. */
  openFiles?: number;
  /** Test only: MB per GB of volume size (PROVISIONER_TEST_VOLUME_MB_PER_GB). */
  volumeMbPerGb?: number;
}

/** The target's arguments and, for a cloud, its provider built from the service's credentials (kept secret in the state). */
function targetOf(
  spec: ResourceSpec,
  host: DockerHostSettings,
): { args: Partial<TemplateSystemArgs>; opts: pulumi.ComponentResourceOptions } {
  const { cloud } = host;
  switch (spec.target) {
    case "hetzner":
      return {
        args: { hetzner: { location: cloud.hetzner!.location, sshCidrs: cloud.sshCidrs } },
        opts: { providers: [new hcloud.Provider("hcloud", { token: pulumi.secret(cloud.hetzner!.token) })] },
      };
    case "digitalocean":
      return {
        args: { digitalocean: { region: cloud.digitalocean!.region, sshCidrs: cloud.sshCidrs } },
        opts: { providers: [new digitalocean.Provider("digitalocean", { token: pulumi.secret(cloud.digitalocean!.token) })] },
      };
    case "aws":
      return {
        args: { aws: { sshCidrs: cloud.sshCidrs } },
        opts: { providers: [new aws.Provider("aws", { region: cloud.aws!.region as awsTypes.Region })] },
      };
    case "kubernetes": {
      const k8s = cloud.kubernetes!;
      return {
        args: {
          kubernetes: {
            // Read at each run: a rotated kubeconfig is used by the next operation. Empty: in-cluster.
            kubeconfig: k8s.kubeconfigPath ? fs.readFileSync(k8s.kubeconfigPath, "utf8") : "",
            publicHost: k8s.publicHost,
            storageClass: k8s.storageClass,
            storageEnforced: k8s.storageEnforced,
            serviceType: k8s.serviceType,
            userIds: k8s.userIds,
          },
          images: host.images,
        },
        opts: {},
      };
    }
    default:
      return {
        args: {
          target: {
            projectsDir: host.projectsDir,
            backupsDir: host.backupsDir,
            healthTimeoutSeconds: host.healthTimeoutSeconds,
            cpus: host.cpus,
            openFiles: host.openFiles,
            volumeMbPerGb: host.volumeMbPerGb,
          },
          images: host.images,
          publishIp: host.publishIp,
          publicHost: host.publicHost,
        },
        opts: {},
      };
  }
}

export function resourceProgram(spec: ResourceSpec, host: DockerHostSettings): PulumiFn {
  return () => {
    const target = targetOf(spec, host);
    const system = new TemplateSystem(
      spec.name,
      {
        template: spec.template,
        name: spec.name,
        team: spec.team,
        resourceId: spec.resourceId,
        hostName: spec.hostName,
        ...(spec.restoreFrom ? { restoreFrom: spec.restoreFrom } : {}),
        size: spec.size,
        options: spec.options,
        ports: spec.ports,
        versions: spec.versions,
        ...target.args,
      },
      target.opts,
    );
    return Promise.resolve({ endpoint: system.endpoint, credentials: system.credentials, storage: system.storage });
  };
}
