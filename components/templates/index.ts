// The template catalogue, and turning a request into a system and its outputs.
import type { ImageSet } from "../images.js";
import type { SystemModel } from "../model/system.js";
import { ipfsClusterSmall } from "./ipfs-cluster.js";
import { databaseNames, postgresSmall } from "./postgres.js";
import { defaultBackupsDir } from "./postgres-backup.js";
import { postgresMedium } from "./postgres-medium.js";
import { hostNameOf } from "./host-name.js";
import { checkDnsLabel, TemplateInputError } from "./request.js";
import { sizeNames, type SizeName, type SizeSpec } from "./sizes.js";
import { largeStorage, mediumStorage, smallStorage } from "./storage.js";
import { parseTemplateOptions, type Template, type TemplateOutputs } from "./template.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each template has its own options type
export const templates: Record<string, Template<any>> = Object.fromEntries(
  [ipfsClusterSmall, postgresSmall, postgresMedium, smallStorage, mediumStorage, largeStorage].map((t) => [t.id, t]),
);

export interface TemplateRequest {
  template: string;
  name: string;
  team: string;
  size?: string;
  options?: unknown;
  /** The resource's id (a UUID): every name on a host or in a cloud derives from it. */
  resourceId: string;
  /**
   * The host-side name of a resource created before names came from ids
   * (`team-name`); it keeps it so that nothing running is disturbed.
   */
  hostName?: string;
  /** A postgres database made from another resource's backups (same Docker host): a dump of its store, or a point in time. */
  restoreFrom?: { hostName: string; backup?: string; pointInTime?: string };
}

export interface PreparedRequest {
  template: Template<unknown>;
  name: string;
  team: string;
  size: SizeName;
  options: unknown;
  /** Compose project, and the base of every name on a host or in a cloud: from the resource id. */
  project: string;
  /** Put on every container, volume, network and cloud resource: who owns it. */
  labels: Record<string, string>;
  portNames: string[];
  secretSizes: Record<string, number>;
  restoreFrom?: { hostName: string; backup?: string; pointInTime?: string };
}

/** Validates a request completely; throws TemplateInputError naming the field. Creates nothing. */
export function prepareRequest(request: TemplateRequest): PreparedRequest {
  const template = typeof request.template === "string" ? templates[request.template] : undefined;
  if (!template) {
    throw new TemplateInputError("template", `unknown template; one of ${Object.keys(templates).join(", ")}`);
  }
  const name = checkDnsLabel("name", request.name, 40);
  const team = checkDnsLabel("team", request.team, 20);
  const size = request.size ?? template.defaultSize;
  if (!(sizeNames as readonly string[]).includes(size)) {
    throw new TemplateInputError("size", `must be one of ${sizeNames.join(", ")}`);
  }
  const options: unknown = parseTemplateOptions(template, request.options);
  const project = request.hostName === undefined ? hostNameOf(request.resourceId) : checkDnsLabel("hostName", request.hostName);
  const restoreFrom = request.restoreFrom && checkRestoreFrom(template, request.restoreFrom);
  return {
    template,
    name,
    team,
    size: size as SizeName,
    options,
    project,
    labels: {
      "provisioner.team": team,
      "provisioner.resource": name,
      "provisioner.resource-id": request.resourceId,
      "provisioner.template": template.id,
    },
    portNames: template.portNames(options),
    secretSizes: template.secrets(options),
    ...(restoreFrom ? { restoreFrom } : {}),
  };
}

/** A restore names its source's store by host name and one dump file of it, or one moment; both go into scripts, so only safe shapes pass. */
function checkRestoreFrom(template: Template<unknown>, source: NonNullable<TemplateRequest["restoreFrom"]>) {
  if (template.id !== "postgres-small" && template.id !== "postgres-medium")
    throw new TemplateInputError("restoreFrom", "only a postgres template can be restored from a backup");
  const hostName = checkDnsLabel("restoreFrom.resource", source.hostName);
  if ((source.backup === undefined) === (source.pointInTime === undefined))
    throw new TemplateInputError("restoreFrom", "Only one of `backup` or `pointInTime` can be provided, and one is required.");
  if (source.backup !== undefined && !/^dumps\/\d{8}T\d{6}Z\.dump$/.test(source.backup))
    throw new TemplateInputError("restoreFrom.backup", "must be a backup id of the source (dumps/<time>.dump)");
  if (source.pointInTime !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(source.pointInTime))
    throw new TemplateInputError("restoreFrom.pointInTime", "must be a UTC time, YYYY-MM-DDTHH:MM:SS[.ffffff]Z");
  return { hostName, ...(source.backup ? { backup: source.backup } : { pointInTime: source.pointInTime! }) };
}

export interface BuildInputs {
  ports: Record<string, number>;
  secrets: Record<string, string>;
  images: ImageSet;
  publishIp: string;
  publicHost: string;
  /** The Docker host's folder of backup stores (default defaultBackupsDir). */
  backupsDir?: string;
  /**
   * CPUs of the Docker host the system runs on: Docker refuses a container
   * whose CPU limit is above them, so every limit is capped there. Unset: no
   * cap (quotas, and cloud servers sized to hold the largest limit).
   */
  hostCpus?: number;
  /** The open-files limit the host's containers may get: a service asking more is capped (the template sizes its pooler to it). */
  hostOpenFiles?: number;
}

/** What a template's size is: its main service's limits and its data's storage (the accessor every target uses). */
export function sizeOf(template: Template<unknown>, size: SizeName): SizeSpec {
  return template.sizes[size];
}

/** sizeOf() by ids, e.g. for a target that has only the resource's row: throws TemplateInputError naming the field. */
export function templateSize(templateId: string, size: string): SizeSpec {
  const template = templates[templateId];
  if (!template) throw new TemplateInputError("template", `unknown template; one of ${Object.keys(templates).join(", ")}`);
  if (!(sizeNames as readonly string[]).includes(size)) throw new TemplateInputError("size", `must be one of ${sizeNames.join(", ")}`);
  return sizeOf(template, size as SizeName);
}

/**
 * The limits a resource runs with, as its configuration records them: its
 * size, and, on a host with fewer CPUs than the size asks, the cap and why
 * (`{cpus: 2, requested: 4, capped: "host has 2 CPUs"}`).
 */
export type SizeLimits = { cpus: number; memoryMb: number; storageGb: number; requested?: number; capped?: string };

export function sizeLimits(prepared: PreparedRequest, hostCpus?: number): SizeLimits {
  const size = sizeOf(prepared.template, prepared.size);
  if (hostCpus === undefined || size.cpus <= hostCpus) return { ...size };
  return { ...size, cpus: hostCpus, requested: size.cpus, capped: `host has ${hostCpus} CPU${hostCpus === 1 ? "" : "s"}` };
}

/** Every port the template declared must be in the allocation. */
export function checkPorts(prepared: PreparedRequest, ports: Record<string, number>): void {
  for (const port of prepared.portNames) {
    const value = ports[port];
    if (!Number.isInteger(value) || value! < 1 || value! > 65535)
      throw new TemplateInputError(`ports.${port}`, "must be an allocated host port");
  }
}

export function buildSystem(prepared: PreparedRequest, inputs: BuildInputs): { model: SystemModel; outputs: TemplateOutputs } {
  checkPorts(prepared, inputs.ports);
  const context = {
    project: prepared.project,
    labels: prepared.labels,
    size: sizeOf(prepared.template, prepared.size),
    ports: inputs.ports,
    images: inputs.images,
    options: prepared.options,
    secrets: inputs.secrets,
    publishIp: inputs.publishIp,
    publicHost: inputs.publicHost,
    backupsDir: inputs.backupsDir ?? defaultBackupsDir,
    ...(prepared.restoreFrom
      ? { restoreFrom: { ...prepared.restoreFrom, database: databaseNames(prepared.restoreFrom.hostName).database } }
      : {}),
    hostOpenFiles: inputs.hostOpenFiles,
  };
  const model = prepared.template.build(context);
  if (inputs.hostCpus !== undefined) capCpus(model, inputs.hostCpus);
  // Templates size their poolers to the limit already; any other service asking more is capped too.
  for (const service of Object.values(model.services))
    if (service.nofile !== undefined && inputs.hostOpenFiles !== undefined) service.nofile = Math.min(service.nofile, inputs.hostOpenFiles);
  return { model, outputs: prepared.template.outputs(context) };
}

/** Caps every container's CPU limit at the host's CPUs (Docker refuses more). */
function capCpus(model: SystemModel, hostCpus: number): void {
  for (const service of Object.values(model.services)) {
    if (service.limits.cpus > hostCpus) service.limits = { ...service.limits, cpus: hostCpus };
  }
}
