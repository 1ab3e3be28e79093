// The cloud targets: which one a request names, its settings checked before
// anything is registered, and the component that provides the server (or the
// managed database) for it. Providers are never built here: they come with
// the caller's resource options (`providers`), configured from the service's
// environment or the stack's provider configuration.
import type * as pulumi from "@pulumi/pulumi";
import { sizeOf, type PreparedRequest } from "../../templates/index.js";
import { databaseNames, type PostgresOptions } from "../../templates/postgres.js";
import { TemplateInputError } from "../../templates/request.js";
import { AwsPostgres } from "./aws-postgres.js";
import type { ExistingVpc } from "./aws-network.js";
import { AwsServer } from "./aws.js";
import { DigitalOceanPostgres } from "./digitalocean-postgres.js";
import { DigitalOceanServer } from "./digitalocean.js";
import { anywhere, checkCidrs, firewallPlan } from "./firewall-plan.js";
import { HetznerServer } from "./hetzner.js";
import { capacityNeeds, chooseServerType, dataVolumeGb, type CloudName } from "./server-types.js";
import type { CloudServer, CloudServerArgs } from "./server.js";

export { cloudServerTarget, deployUser, projectsDir, readyFile, type ServerAccess } from "./server-access.js";
export type { CloudName } from "./server-types.js";

export interface CloudTargetSettings {
  /** Who may reach SSH (CIDR blocks); the machine running the provisioner must be among them. */
  sshCidrs: string[];
  /** Who may reach the published ports. Default: anywhere (the templates authenticate clients). */
  publicCidrs?: string[];
  /** Overrides the server type chosen from the template's size. */
  serverType?: string;
}

export interface HetznerTarget extends CloudTargetSettings {
  /** e.g. `fsn1`, `nbg1`, `hel1`, `ash`, `hil`, `sin`. */
  location: string;
}

export interface DigitalOceanTarget extends CloudTargetSettings {
  /** e.g. `fra1`, `ams3`, `nyc3`. */
  region: string;
  /** postgres templates: DigitalOcean Managed PostgreSQL instead of containers. */
  managedDatabase?: boolean;
}

export interface AwsTarget extends CloudTargetSettings {
  /** Use this VPC and its subnets instead of creating a VPC. The region is the provider's. */
  vpc?: ExistingVpc;
  /** Default: the newest official Debian 12 AMI. */
  ami?: string;
  /** postgres templates: Amazon RDS instead of containers. */
  managedDatabase?: boolean;
}

export interface CloudTargets {
  hetzner?: HetznerTarget;
  digitalocean?: DigitalOceanTarget;
  aws?: AwsTarget;
}

export type CloudTarget =
  | { kind: "hetzner"; settings: HetznerTarget }
  | { kind: "digitalocean"; settings: DigitalOceanTarget }
  | { kind: "aws"; settings: AwsTarget };

const kinds = ["hetzner", "digitalocean", "aws"] as const satisfies readonly CloudName[];

/** The cloud the request names, if any; exactly one target must be named. */
export function pickCloudTarget(args: CloudTargets & { target?: unknown; kubernetes?: unknown }): CloudTarget | undefined {
  const named = [
    ...(args.target ? ["target"] : []),
    ...(args.kubernetes ? ["kubernetes"] : []),
    ...kinds.filter((k) => args[k] !== undefined),
  ];
  if (named.length !== 1)
    throw new TemplateInputError("target", "Exactly one of `target`, `kubernetes`, `hetzner`, `digitalocean` or `aws` must be provided.");
  const kind = kinds.find((k) => args[k] !== undefined);
  return kind && ({ kind, settings: args[kind] } as CloudTarget);
}

export function usesManagedDatabase(cloud: CloudTarget): boolean {
  return cloud.kind !== "hetzner" && cloud.settings.managedDatabase === true;
}

function requireString(field: string, value: unknown): void {
  if (typeof value !== "string" || value.length === 0) throw new TemplateInputError(field, "is required");
}

/** Checks the cloud settings; throws TemplateInputError naming the field. Creates nothing. */
export function checkCloudTarget(cloud: CloudTarget, prepared: PreparedRequest, ports: Record<string, number>): void {
  const field = (name: string) => `${cloud.kind}.${name}`;
  const s = cloud.settings;
  checkCidrs(field("sshCidrs"), s.sshCidrs);
  if (s.publicCidrs !== undefined) checkCidrs(field("publicCidrs"), s.publicCidrs);
  if (s.serverType !== undefined) requireString(field("serverType"), s.serverType);
  if (cloud.kind === "hetzner") requireString(field("location"), cloud.settings.location);
  if (cloud.kind === "digitalocean") requireString(field("region"), cloud.settings.region);
  if (cloud.kind === "aws" && cloud.settings.vpc) {
    requireString(field("vpc.vpcId"), cloud.settings.vpc.vpcId);
    const min = usesManagedDatabase(cloud) ? 2 : 1;
    const subnets = cloud.settings.vpc.subnetIds;
    if (!Array.isArray(subnets) || subnets.length < min)
      throw new TemplateInputError(
        field("vpc.subnetIds"),
        `must list at least ${min} subnet${min > 1 ? "s (in two availability zones)" : ""}`,
      );
  }
  if (usesManagedDatabase(cloud)) {
    if (prepared.template.managedService?.engine !== "postgresql")
      throw new TemplateInputError(field("managedDatabase"), "only the postgres templates run on a managed database");
  } else {
    // Validates the ports against the plan now, not halfway through a deployment.
    firewallPlan({ ports, publicCidrs: s.publicCidrs ?? anywhere, sshCidrs: s.sshCidrs });
    if (s.serverType === undefined) chooseServerType(cloud.kind, capacityNeeds(prepared));
  }
}

/**
 * The secrets a managed database needs from us: RDS takes the generated
 * password; DigitalOcean makes its role's password itself. (No replication
 * password: the cloud replicates.)
 */
export function managedSecretSizes(cloud: CloudTarget, sizes: Record<string, number>): Record<string, number> {
  return cloud.kind === "aws" ? { password: sizes.password! } : {};
}

export type CloudServerResource = CloudServer & pulumi.ComponentResource;

/** The server the template's Compose project is deployed to. */
export function createCloudServer(
  name: string,
  cloud: CloudTarget,
  prepared: PreparedRequest,
  ports: Record<string, number>,
  opts: pulumi.ComponentResourceOptions,
): CloudServerResource {
  const s = cloud.settings;
  const common: CloudServerArgs = {
    resourceName: prepared.project,
    serverType: s.serverType ?? chooseServerType(cloud.kind, capacityNeeds(prepared)),
    dataVolumeGb: dataVolumeGb(prepared),
    firewall: firewallPlan({ ports, publicCidrs: s.publicCidrs ?? anywhere, sshCidrs: s.sshCidrs }),
    labels: prepared.labels,
  };
  const childName = `${name}-${cloud.kind}`;
  switch (cloud.kind) {
    case "hetzner":
      return new HetznerServer(childName, { ...common, location: cloud.settings.location }, opts);
    case "digitalocean":
      return new DigitalOceanServer(childName, { ...common, region: cloud.settings.region }, opts);
    case "aws":
      return new AwsServer(childName, { ...common, vpc: cloud.settings.vpc, ami: cloud.settings.ami }, opts);
  }
}

/** The postgres template on the cloud's managed PostgreSQL. */
export function createManagedPostgres(
  name: string,
  cloud: CloudTarget,
  prepared: PreparedRequest,
  password: pulumi.Input<string>,
  opts: pulumi.ComponentResourceOptions,
): DigitalOceanPostgres | AwsPostgres {
  const { database, role } = databaseNames(prepared.project);
  const common = {
    resourceName: prepared.project,
    labels: prepared.labels,
    size: sizeOf(prepared.template, prepared.size),
    database,
    username: role,
    options: prepared.options as PostgresOptions,
    replica: prepared.template.managedService?.readReplica === true,
    publicCidrs: cloud.settings.publicCidrs ?? [...anywhere],
  };
  const childName = `${name}-${cloud.kind}`;
  switch (cloud.kind) {
    case "digitalocean":
      return new DigitalOceanPostgres(childName, { ...common, region: cloud.settings.region }, opts);
    case "aws":
      return new AwsPostgres(childName, { ...common, password, vpc: cloud.settings.vpc }, opts);
    case "hetzner":
      throw new TemplateInputError("hetzner", "has no managed database");
  }
}
