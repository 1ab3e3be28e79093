// A template deployed on a target: the Pulumi component both the service
// (through the Automation API) and engineers (`pulumi up`) use.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { resolveImages, type ImageSet } from "./images.js";
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
import { defaultBackupsDir, deployToDockerHost, type DockerHostTarget } from "./targets/docker-host.js";
import { buildSystem, checkPorts, prepareRequest, type TemplateRequest } from "./templates/index.js";

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
  /** Image overrides; defaults are the official images (or PROVISIONER_IMAGE_* on a Docker-host target). */
  images?: Partial<ImageSet>;
  /**
   * Address the published ports bind to. Default: 127.0.0.1 on this machine's
   * Docker host (only its own users reach them); 0.0.0.0 on a server over SSH
   * or in a cloud, whose firewall decides who reaches them.
   */
  publishIp?: string;
  /** Host name clients use in the endpoint URLs. Default: the server's address, the SSH host, else 127.0.0.1. */
  publicHost?: string;
}

/** `od` is on every Docker host and every Pulumi machine: no random provider plugin needed. */
const randomHex = (bytes: number) => `od -An -vtx1 -N${bytes} /dev/urandom | tr -d ' \\n'`;

export class TemplateSystem extends pulumi.ComponentResource {
  /** Where clients connect (no secrets). */
  readonly endpoint: pulumi.Output<Record<string, string>>;
  /** How clients authenticate (secret). */
  readonly credentials: pulumi.Output<Record<string, string>>;

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
      this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
      return;
    }

    const server = cloud && createCloudServer(name, cloud, prepared, args.ports, { parent: this });
    const target = server ? cloudServerTarget(server.access) : args.target!;
    const publicHost =
      args.publicHost ?? (server ? server.publicIp : target.ssh ? pulumi.output(target.ssh.host) : pulumi.output("127.0.0.1"));
    // A cloud server pulls the official images: PROVISIONER_IMAGE_* name this machine's local builds.
    const images = { ...(server ? resolveImages({}) : resolveImages()), ...args.images };
    const system = pulumi.all([secrets, publicHost]).apply(([secretValues, host]) =>
      buildSystem(prepared, {
        ports: args.ports,
        secrets: secretValues,
        images,
        publishIp: args.publishIp ?? (server || target.ssh ? "0.0.0.0" : "127.0.0.1"),
        publicHost: host,
        backupsDir: target.backupsDir ?? defaultBackupsDir,
      }),
    );
    const deployment = deployToDockerHost(
      `${name}-deploy`,
      system.apply((s) => s.model),
      prepared.project,
      target,
      { parent: this, dependsOn: [...secretCommands.map(([, cmd]) => cmd), ...(server ? [server] : [])] },
    );

    // Known once the system is healthy.
    this.endpoint = pulumi.unsecret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.endpoint));
    this.credentials = pulumi.secret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.credentials));
    this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
  }
}
