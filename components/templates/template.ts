// The contract every template fulfils: validate options, declare the host
// ports and secrets it needs, describe its system, and say what it exposes.
import type { ImageSet } from "../images.js";
import type { HealthCheck, SystemModel } from "../model/system.js";
import { TemplateInputError } from "./request.js";
import type { SizeName, SizeSpec } from "./sizes.js";

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
}

export interface TemplateOutputs {
  /** Where clients connect: URLs and host:port strings. No secrets. */
  endpoint: Record<string, string>;
  /** What clients authenticate with. Secret. */
  credentials: Record<string, string>;
}

export interface Template<Options = unknown> {
  id: string;
  description: string;
  sizes: readonly SizeName[];
  defaultSize: SizeName;
  /** JSON Schema of `options`, for API clients. */
  optionsSchema: Record<string, unknown>;
  /** Validates raw options, filling in defaults; throws TemplateInputError naming the field. */
  parseOptions(raw: unknown): Options;
  portNames(options: Options): string[];
  /** Secrets to generate once per resource: name → number of random bytes. */
  secrets(options: Options): Record<string, number>;
  build(context: TemplateContext<Options>): SystemModel;
  outputs(context: TemplateContext<Options>): TemplateOutputs;
}

/** Health checks of the templates' services: probe every 2 s, give up after a minute. */
export function healthCheck(test: string[]): HealthCheck {
  return { test, intervalSeconds: 2, timeoutSeconds: 5, retries: 30, startPeriodSeconds: 5 };
}

/** JSON Schema of a template's options: an object with exactly these properties. */
export function optionsSchema(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: "object", additionalProperties: false, properties };
}

/** The IPFS templates' `publicNetwork` option: join the public IPFS network (default). */
export const publicNetworkSchema = { type: "boolean", default: true };

export function publicNetworkOption(options: Record<string, unknown>): boolean {
  const value = options.publicNetwork ?? true;
  if (typeof value !== "boolean") throw new TemplateInputError("options.publicNetwork", "must be a boolean");
  return value;
}

export function optionsObject(raw: unknown, known: readonly string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new TemplateInputError("options", "must be an object");
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) throw new TemplateInputError(`options.${key}`, "is not an option of this template");
  }
  return raw as Record<string, unknown>;
}
