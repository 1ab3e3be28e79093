// A template deployed on a target: the Pulumi component both the service
// (through the Automation API) and engineers (`pulumi up`) use.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { resolveImages, type ImageSet } from "./images.js";
import { buildSystem, checkPorts, prepareRequest, type TemplateRequest } from "./templates/index.js";
import { deployToDockerHost, type DockerHostTarget } from "./targets/docker-host.js";

export interface TemplateSystemArgs extends TemplateRequest {
  /** Host ports by the names the template declares (see prepareRequest().portNames). */
  ports: Record<string, number>;
  target: DockerHostTarget;
  /** Image overrides; defaults are the official images (or PROVISIONER_IMAGE_*). */
  images?: Partial<ImageSet>;
  /** Address the published ports bind to. Default: 0.0.0.0. */
  publishIp?: string;
  /** Host name clients use in the endpoint URLs. Default: the SSH host, else 127.0.0.1. */
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
    checkPorts(prepared, args.ports);
    super("provisioner:index:TemplateSystem", name, {}, opts);

    // Generated once, at create: an update keeps them (the command only reruns on replace).
    const secretCommands = Object.entries(prepared.secretSizes).map(
      ([secret, bytes]) =>
        [secret, new command.local.Command(`${name}-secret-${secret}`, { create: randomHex(bytes) }, { parent: this, additionalSecretOutputs: ["stdout"] })] as const,
    );
    const secrets = pulumi.all(Object.fromEntries(secretCommands.map(([secret, cmd]) => [secret, pulumi.secret(cmd.stdout)])));

    const publicHost = args.publicHost ?? (args.target.ssh ? pulumi.output(args.target.ssh.host) : pulumi.output("127.0.0.1"));
    const images = { ...resolveImages(), ...args.images };
    const system = pulumi.all([secrets, publicHost]).apply(([secretValues, host]) =>
      buildSystem(prepared, { ports: args.ports, secrets: secretValues, images, publishIp: args.publishIp ?? "0.0.0.0", publicHost: host }),
    );
    const deployment = deployToDockerHost(
      `${name}-deploy`,
      system.apply((s) => s.model),
      prepared.project,
      args.target,
      { parent: this, dependsOn: secretCommands.map(([, cmd]) => cmd) },
    );

    // Known once the system is healthy.
    this.endpoint = pulumi.unsecret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.endpoint));
    this.credentials = pulumi.secret(pulumi.all([system, deployment.stdout]).apply(([s]) => s.outputs.credentials));
    this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials });
  }
}
