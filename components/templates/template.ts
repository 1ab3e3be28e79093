// The contract every template fulfils, in one file per template: its options
// (declared once, in zod: validation, defaults and the published JSON
// Schema), the host ports and secrets it needs, its system, what it exposes,
// and what the rest of the product needs to know about it (cloud data
// volume, managed service, health probe, scrape targets). Pure data and
// functions: the API loads the templates, so nothing here imports @pulumi/*.
import { z } from "zod";
import type { ImageSet } from "../images.js";
import type { HealthCheck, SystemModel } from "../model/system.js";
import { TemplateInputError } from "./request.js";
import type { SizeName, SizeSpec, TemplateSizes } from "./sizes.js";
import type { RestoreSource } from "./postgres-backup.js";

export interface TemplateContext<Options> {
  /** Compose project: unique per resource. */
  project: string;
  labels: Record<string, string>;
  size: SizeSpec;
  /** Host ports allocated by the caller, by the names portNames() declared. */
  ports: Record<string, number>;
  images: ImageSet;
  options: Options;
  /** Generated secrets (hex), by the names `secrets` declared. */
  secrets: Record<string, string>;
  /** Host address the published ports bind to. */
  publishIp: string;
  /** Host name clients use to reach the published ports. */
  publicHost: string;
  /** Folder on the Docker host holding each resource's backup store (`<backupsDir>/<project>`), apart from the resources. */
  backupsDir: string;
  /** A database created from another resource's backups (postgres templates). */
  restoreFrom?: RestoreSource;
  /** The open-files limit the host's containers may get, when known: a pooler accepts only as many clients as it has files. */
  hostOpenFiles?: number;
}

export interface TemplateOutputs {
  /** Where clients connect: URLs and host:port strings. No secrets. */
  endpoint: Record<string, string>;
  /** What clients authenticate with. Secret. */
  credentials: Record<string, string>;
}

/**
 * How the health monitor checks a system from outside, as its users reach it
 * (the probes themselves are in api/health-probes.ts):
 * - `ipfs-cluster`: the cluster's /peers and every Kubo node through the metrics proxy;
 * - `kubo-rpc`: a Kubo node's authenticated RPC API (/api/v0/id, repo/stat);
 * - `postgres`: SELECT 1 through the published pooler, and a replica's lag when there is one.
 */
export const healthProbes = ["ipfs-cluster", "kubo-rpc", "postgres"] as const;
export type HealthProbe = (typeof healthProbes)[number];

/** One Prometheus target: an address that serves metrics without credentials. */
export interface ScrapeTarget {
  /** host:port */
  address: string;
  /** The service it measures, a label (ipfs, ipfs0, ...). */
  node: string;
  path: string;
}

/** A cloud's managed service the template can run on instead of containers (`managedDatabase: true`). */
export interface ManagedService {
  engine: "postgresql";
  /** A read-only replica beside the primary. */
  readReplica: boolean;
}

export interface Template<Options = unknown> {
  id: string;
  description: string;
  /**
   * What each size is for this template (its main service's CPU and memory
   * limits, its data's storage), shown in GET /v1/templates and read by
   * quotas, cloud sizing and every target through sizeOf().
   */
  sizes: TemplateSizes;
  defaultSize: SizeName;
  /** What `sizes` measures, for the catalogue: "the database server", "each Kubo node". */
  sizeUnit: string;
  /**
   * The options, declared once: validates raw options and fills in defaults
   * (parseTemplateOptions), and is the JSON Schema clients see
   * (optionsJsonSchema). Rules JSON Schema cannot state are refinements naming the field.
   */
  options: z.ZodType<Options>;
  portNames(options: Options): string[];
  /** Secrets to generate once per resource: name → number of random bytes. */
  secrets(options: Options): Record<string, number>;
  build(context: TemplateContext<Options>): SystemModel;
  outputs(context: TemplateContext<Options>): TemplateOutputs;
  /** On a cloud server: GB the system's own volumes need on the data volume (Docker's images come on top). */
  dataGb(size: SizeSpec, options: Options): number;
  /**
   * Of dataGb, what the resource's backup store holds (postgres templates: dumps, base backups, WAL archive).
   * The store is a host folder apart from the resource (it outlives a DELETE), not one of its volumes: volume
   * quotas size the volumes from what is left. Absent: 0.
   */
  backupStoreGb?(size: SizeSpec, options: Options): number;
  /** Absent: the template runs in containers only. */
  managedService?: ManagedService;
  healthProbe: HealthProbe;
  /** What Prometheus scrapes of a resource, from its endpoint (an old endpoint may lack a key: then fewer targets). */
  scrapeTargets(endpoint: Record<string, unknown>): ScrapeTarget[];
}

/** Health checks of the templates' services: probe every 2 s, give up after a minute. */
export function healthCheck(test: string[]): HealthCheck {
  return { test, intervalSeconds: 2, timeoutSeconds: 5, retries: 30, startPeriodSeconds: 5 };
}

/** A template's options: an object with exactly these properties. */
export function optionsObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject(shape, { error: (issue) => (issue.code === "invalid_type" ? "must be an object" : undefined) });
}

/** An integer option, with the message the API has always given. */
export const integerOption = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
};

/** The IPFS templates' `publicNetwork` option: join the public IPFS network (default). */
export const publicNetworkOption = z
  .boolean({ error: "must be a boolean" })
  .default(true)
  .meta({ description: "Join the public IPFS network (bootstrap peers, delegated routing)." });

/** Validates raw options, filling in defaults; throws TemplateInputError naming `options.<field>`. */
export function parseTemplateOptions<Options>(template: Template<Options>, raw: unknown): Options {
  const result = template.options.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys")
    throw new TemplateInputError(["options", ...issue.path, issue.keys[0]].join("."), "is not an option of this template");
  throw new TemplateInputError(["options", ...issue.path.map(String)].join("."), issue.message);
}

/** The JSON Schema of a template's options, as clients send them (defaults optional). */
export function optionsJsonSchema(template: Template): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(template.options, { io: "input", unrepresentable: "any" });
  return schema;
}

/**
 * Each option's own schema, without its default: what a change of that one
 * option may be (a PATCH merges options into the current ones).
 */
export function optionFields(template: Template): Record<string, z.ZodType> {
  let schema: z.ZodType = template.options;
  while (schema instanceof z.ZodPipe) schema = schema.in as z.ZodType;
  if (!(schema instanceof z.ZodObject)) throw new Error(`template ${template.id}: options must be an object schema`);
  return Object.fromEntries(
    Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => [
      name,
      field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field,
    ]),
  );
}

/** host:port of an http:// URL with a port, or undefined. */
export function httpAddress(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" && parsed.port ? parsed.host : undefined;
  } catch {
    return undefined;
  }
}
