// The /v1 request and response shapes, as zod schemas: requests are validated
// with them and the OpenAPI document is generated from them (one source).
import { z } from "zod";
import { templates } from "../components/templates/index.js";
import { sizeNames } from "../components/templates/sizes.js";

/** docker-host is this machine; a cloud is offered when the service has its credentials. */
export const targets = ["docker-host", "hetzner", "digitalocean", "aws"] as const;
export const resourceStatuses = ["PROVISIONING", "ACTIVE", "UPDATING", "DEGRADED", "FAILED", "DELETING", "DELETED"] as const;

const templateIds = Object.keys(templates) as [string, ...string[]];
const options = z.record(z.string(), z.unknown()).meta({ description: "The template's parameters (see GET /v1/templates)." });

export const createResourceBody = z.strictObject({
  template: z.enum(templateIds),
  name: z
    .string()
    .max(40)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', starting with a letter")
    .meta({ description: "Unique among the team's resources; part of container and stack names." }),
  size: z.enum(sizeNames).optional().meta({ description: "Default: the template's default size." }),
  target: z.enum(targets).default("docker-host"),
  options: options.optional(),
});
export type CreateResourceBody = z.infer<typeof createResourceBody>;

export const updateResourceBody = z
  .strictObject({ size: z.enum(sizeNames).optional(), options: options.optional() })
  .refine((b) => b.size !== undefined || b.options !== undefined, { message: "give size, options or both", path: ["size"] });
export type UpdateResourceBody = z.infer<typeof updateResourceBody>;

export const listResourcesQuery = z.strictObject({
  status: z.enum(resourceStatuses).optional(),
  template: z.enum(templateIds).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().meta({ description: "nextCursor of the previous page." }),
});

/** An event id: a Postgres bigint, as digits. */
export const eventId = z
  .string()
  .regex(/^\d{1,19}$/, "must be an event id (digits)")
  // zod runs refinements after a failed check too: only digits reach BigInt.
  .refine((v) => !/^\d+$/.test(v) || BigInt(v) <= 9223372036854775807n, "is beyond any event id");

export const eventsQuery = z.strictObject({
  after: eventId.optional().meta({ description: "Only events with a greater id (SSE: the Last-Event-ID header)." }),
});

export const resourceId = z.uuid();

const timestamp = z.string().meta({ format: "date-time" });

export const operationView = z.object({
  id: z.uuid(),
  kind: z.enum(["CREATE", "UPDATE", "REFRESH", "DELETE"]),
  status: z.enum(["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]),
  ahead: z.number().int().optional().meta({ description: "Operations of the same resource that run or wait before this one." }),
  error: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});

export const resourceView = z.object({
  id: z.uuid(),
  name: z.string(),
  template: z.string(),
  target: z.string(),
  size: z.string(),
  options: z.record(z.string(), z.unknown()),
  status: z.enum(resourceStatuses),
  stage: z.string().nullable(),
  progress: z.number().int(),
  endpoint: z.record(z.string(), z.string()).nullable(),
  configuration: z.record(z.string(), z.unknown()).nullable(),
  lastError: z.string().nullable(),
  drift: z.record(z.string(), z.unknown()).nullable(),
  stack: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  deletedAt: timestamp.nullable(),
});

export const acceptedView = z.object({
  resource: resourceView,
  operation: operationView,
  queued: z.boolean().meta({ description: "True when the operation waits behind others on the same resource." }),
  merged: z.boolean().optional().meta({ description: "A refresh behind a queued refresh: the answer is that refresh." }),
});

export const eventView = z.object({
  id: z.string(),
  operationId: z.string().nullable(),
  stage: z.string(),
  progress: z.number().int(),
  message: z.string(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  createdAt: timestamp,
});

export const errorView = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    requestId: z.string().optional(),
  }),
});
