// A template deployed on a target: the Pulumi component both the service
// (through the Automation API) and engineers (`pulumi up`) use.
import { execFileSync } from "node:child_process";
import os from "node:os";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { resolveImages, type ImageSet } from "./images.js";
import { imagesWith, type Versions } from "./versions.js";
import {
  checkCloudTarget,
  cloudServerTarget,
  createCloudServer,
  createManagedPostgres,
  managedSecretSizes,
  pickCloudTarget,
  usesManagedDatabase,
  type CloudTargets,
} from "./targets/cloud/index.js";
import { dataVolumeGb } from "./targets/cloud/server-types.js";
import { defaultBackupsDir, deployToDockerHost, volumesOnDockerHost, type DockerHostTarget } from "./targets/docker-host.js";
import { deployToKubernetes, kubernetesStorage, type KubernetesTarget } from "./targets/kubernetes.js";
import { claimsGb, secretKeys, withBackupStoreVolume } from "./targets/kubernetes-manifests.js";
import type { VolumesStatus } from "./model/volume-quota.js";
import { buildSystem, checkPorts, prepareRequest, type PreparedRequest, type TemplateRequest } from "./templates/index.js";
import { volumeSizesGb, volumeSizesMb } from "./templates/volume-sizes.js";

/**
 * Exactly one target: `target` (a Docker host: this machine or a server over
 * SSH) or one cloud (`hetzner`, `digitalocean`, `aws`), where a server is
 * created and the same Docker-host deployment runs on it over SSH. The
 * clouds' providers come through the resource options (`providers`).
 */
export interface TemplateSystemArgs extends TemplateRequest, CloudTargets {
  /** Host ports by the names the template declares (see prepareRequest().portNames). */
  ports: Record<string, number>;
  target?: DockerHostTarget;
  /** A Kubernetes cluster instead of a Docker host: one namespace per resource. */
  kubernetes?: KubernetesTarget;
  /** Image overrides; defaults are the official images (or PROVISIONER_IMAGE_* on a Docker-host target). */
  images?: Partial<ImageSet>;
  /**
   * Versions to run instead of the images' own tags (same repositories), e.g.
   * `{ kubo: "0.39.1" }`. Which changes are upgrades is the caller's check
   * (components/versions.ts checkVersions); the templates roll them out.
   */
  versions?: Versions;
  /**
   * Address the published ports bind to. Default: 127.0.0.1 on this machine's
   * Docker host (only its own users reach them); 0.0.0.0 on a server over SSH
   * or in a cloud, whose firewall decides who reaches them.
   */
  publishIp?: string;
  /** Host name clients use in the endpoint URLs. Default: the server's address, the SSH host, else 127.0.0.1. */
  publicHost?: string;
}

/** This machine's hard open-files limit: what its Docker engine's containers inherit, unless it runs with more. */
function localOpenFiles(): number | undefined {
  const value = Number(execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim());
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** `od` is on every Docker host and every Pulumi machine: no random provider plugin needed. */
const randomHex = (bytes: number) => `od -An -vtx1 -N${bytes} /dev/urandom | tr -d ' \\n'`;

export class TemplateSystem extends pulumi.ComponentResource {
  /** Where clients connect (no secrets). */
  readonly endpoint: pulumi.Output<Record<string, string>>;
  /** How clients authenticate (secret). */
  readonly credentials: pulumi.Output<Record<string, string>>;
  /** Whether the volumes' sizes are enforced on the host, and the sizes (undefined on a managed database). */
  readonly storage: pulumi.Output<VolumesStatus | undefined>;

  constructor(name: string, args: TemplateSystemArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validated before anything is registered, this component included.
    const prepared = prepareRequest(args);
    const cloud = pickCloudTarget(args);
    const managed = cloud !== undefined && usesManagedDatabase(cloud);
    if (!managed) checkPorts(prepared, args.ports);
    if (cloud) checkCloudTarget(cloud, prepared, args.ports);
    super("provisioner:index:TemplateSystem", name, {}, opts);

    // Generated once, at create: an update keeps them (the command only reruns on replace).
    const secretCommands = Object.entries(managed ? managedSecretSizes(cloud, prepared.secretSizes) : prepared.secretSizes).map(
      ([secret, bytes]) =>
        [
          secret,
          new command.local.Command(
            `${name}-secret-${secret}`,
            { create: randomHex(bytes) },
            { parent: this, additionalSecretOutputs: ["stdout"] },
          ),
        ] as const,
    );
    const secrets = pulumi.all(Object.fromEntries(secretCommands.map(([secret, cmd]) => [secret, pulumi.secret(cmd.stdout)])));

    if (managed) {
      const database = createManagedPostgres(
        name,
        cloud,
        prepared,
        secrets.apply((s) => s.password!),
        { parent: this },
      );
      this.endpoint = pulumi.unsecret(database.outputs.apply((o) => o.endpoint));
      this.credentials = pulumi.secret(database.outputs.apply((o) => o.credentials));
      this.storage = pulumi.output(undefined);
      this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
      return;
    }

    if (args.kubernetes) {
      const deployed = deployOnKubernetes(name, prepared, args, args.kubernetes, secretCommands, secrets, this);
      this.endpoint = deployed.endpoint;
      this.credentials = deployed.credentials;
      this.storage = pulumi.output(deployed.storage);
      this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
      return;
    }

    const server = cloud && createCloudServer(name, cloud, prepared, args.ports, { parent: this });
    const target = server ? cloudServerTarget(server.access) : args.target!;
    const publicHost =
      args.publicHost ?? (server ? server.publicIp : target.ssh ? pulumi.output(target.ssh.host) : pulumi.output("127.0.0.1"));
    // A cloud server pulls the official images: PROVISIONER_IMAGE_* name this machine's local builds.
    const images = imagesWith({ ...(server ? resolveImages({}) : resolveImages()), ...args.images }, args.versions);
    const system = pulumi.all([secrets, publicHost]).apply(([secretValues, host]) =>
      buildSystem(prepared, {
        ports: args.ports,
        secrets: secretValues,
        images,
        publishIp: args.publishIp ?? (server || target.ssh ? "0.0.0.0" : "127.0.0.1"),
        publicHost: host,
        backupsDir: target.backupsDir ?? defaultBackupsDir,
        // A cloud server is chosen to hold the largest limit (server-types.ts).
        hostCpus: server ? undefined : (target.cpus ?? (target.ssh ? undefined : os.availableParallelism())),
        hostOpenFiles: server ? undefined : (target.openFiles ?? (target.ssh ? undefined : localOpenFiles())),
      }),
    );
    // Every volume sized (and limited where the host allows: components/model/volume-quota.ts).
    const model = system.apply((s) => ({ ...s.model, volumeSizesMb: volumeSizesMb(prepared, s.model.volumes, target.volumeMbPerGb) }));
    const volumes = volumesOnDockerHost(`${name}-volumes`, model, prepared.project, target, {
      parent: this,
      dependsOn: server ? [server] : [],
    });
    const deployment = deployToDockerHost(`${name}-deploy`, model, prepared.project, target, {
      parent: this,
      dependsOn: [...secretCommands.map(([, cmd]) => cmd), volumes.command, ...(server ? [server] : [])],
    });
    // A cloud server is the resource's own: its data volume bounds what the resource can fill, whoever may mount there.
    const cloudGb = server ? dataVolumeGb(prepared) : undefined;
    this.storage = volumes.status.apply((status) =>
      status && cloudGb !== undefined && status.quota !== "enforced"
        ? {
            quota: "enforced" as const,
            method: `the resource's own cloud server, its data volume of ${cloudGb} GB`,
            sizesMb: status.sizesMb,
          }
        : status,
    );

    // Known once the system is healthy.
    this.endpoint = pulumi.unsecret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.endpoint));
    this.credentials = pulumi.secret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.credentials));
    this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
  }
}

/**
 * The Kubernetes target: the system rendered with stand-in secrets decides
 * which objects exist (known at preview) and which values are secret (those
 * that change with the secrets); the real secrets fill them in.
 */
function deployOnKubernetes(
  name: string,
  prepared: PreparedRequest,
  args: TemplateSystemArgs,
  target: KubernetesTarget,
  secretCommands: (readonly [string, pulumi.Resource])[],
  secrets: pulumi.Output<Record<string, string>>,
  parent: pulumi.ComponentResource,
) {
  const images = imagesWith({ ...resolveImages(), ...args.images }, args.versions);
  const inputs = (secretValues: Record<string, string>) => ({
    ports: args.ports,
    secrets: secretValues,
    images,
    publishIp: "0.0.0.0",
    publicHost: target.publicHost,
  });
  const standIn = (digit: string) =>
    buildSystem(
      prepared,
      inputs(Object.fromEntries(Object.entries(prepared.secretSizes).map(([s, bytes]) => [s, digit.repeat(2 * bytes)]))),
    );
  // The backup store is a claim there (withBackupStoreVolume), sized with the others.
  const shape = withBackupStoreVolume(standIn("0").model);
  const keys = secretKeys(shape, standIn("f").model);
  const system = secrets.apply((s) => buildSystem(prepared, inputs(s)));
  // The claims are the resource's storage quota: sized as the Docker host's volumes and the clouds' data volumes are.
  const claims = claimsGb(volumeSizesGb(prepared, shape.volumes));
  const created = deployToKubernetes(
    `${name}-k8s`,
    shape,
    system.apply((s) => s.model),
    keys,
    claims,
    target,
    { parent, dependsOn: secretCommands.map(([, cmd]) => cmd) },
  );
  // Known once every workload is ready.
  const ready = pulumi.all(created.map((r) => r.urn));
  return {
    endpoint: pulumi.unsecret(pulumi.all([system, ready]).apply(([s]) => s.outputs.endpoint)),
    credentials: pulumi.secret(pulumi.all([system, ready]).apply(([s]) => s.outputs.credentials)),
    storage: kubernetesStorage(target, claims),
  };
}
