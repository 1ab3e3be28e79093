// The /v1 request and response shapes, as zod schemas: requests are validated
// with them and the OpenAPI document is generated from them (one source).
import { z } from "zod";
import { estimateView } from "./usage.schemas.js";
import { templates } from "../components/templates/index.js";
import { sizeNames } from "../components/templates/sizes.js";
import { optionFields, type Template } from "../components/templates/template.js";
import { restoreFromBody } from "./backups.schemas.js";
import { versionSchemaPattern, type VersionedImage } from "../components/versions.js";

/** docker-host is this machine; a cloud when the service has its credentials; kubernetes when it has a cluster. */
export const targets = ["docker-host", "hetzner", "digitalocean", "aws", "kubernetes"] as const;
export const resourceStatuses = ["PROVISIONING", "ACTIVE", "UPDATING", "DEGRADED", "FAILED", "DELETING", "DELETED"] as const;

const templateIds = Object.keys(templates) as [string, ...string[]];

const resourceName = z
  .string()
  .max(40)
  .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', starting with a letter")
  .meta({ description: "Unique among the team's resources; part of container and stack names." });

/** The body that provisions one template: its own options, so the document states them and their limits. */
const createBodyOf = (template: Template, offered: readonly [string, ...string[]]) =>
  z.strictObject({
    template: z.literal(template.id),
    name: resourceName,
    size: z
      .enum(sizeNames)
      .optional()
      .meta({ description: `Default: ${template.defaultSize}.` }),
    target: z.enum(offered).default("docker-host"),
    options: template.options.optional().meta({ description: "The template's parameters (also in GET /v1/templates)." }),
    ...(template.id.startsWith("postgres-") ? { restoreFrom: restoreFromBody.optional() } : {}),
  });

/**
 * `offered`: the targets a request may name. Requests are validated with every
 * target (the service then names what an unconfigured cloud needs); the
 * document of an instance lists those it offers.
 */
export function createResourceBodyFor(offered: readonly string[]) {
  const bodies = Object.values(templates).map((t) => createBodyOf(t, offered as [string, ...string[]]));
  return z.discriminatedUnion("template", bodies as [(typeof bodies)[number], ...typeof bodies], {
    error: (issue) => (issue.code === "invalid_union" ? `must be one of ${templateIds.join(", ")}` : undefined),
  });
}

export const createResourceBody = createResourceBodyFor(targets);
export type CreateResourceBody = z.infer<typeof createResourceBody>;

/**
 * PATCH options: any option of any template, each within its limits (the
 * resource's template is not known here); an option the resource's template
 * does not have, or that its current options contradict, is a 409.
 */
const optionChanges = z
  .strictObject(
    Object.fromEntries(
      Object.values(templates).flatMap((t) => Object.entries(optionFields(t)).map(([name, field]) => [name, field.optional()])),
    ),
  )
  .meta({ description: "Options to change, merged into the current ones; the resource's template's options (see GET /v1/templates)." });

/** A version of the same major (Kubo, ipfs-cluster: major.minor) as the product's default image; a major change is a 400 here. */
const versionString = (image: VersionedImage) => {
  const error = `must be a version of the same ${image === "postgres" ? "major" : "major.minor"} (${versionSchemaPattern(image)})`;
  return z.string({ error }).regex(new RegExp(versionSchemaPattern(image)), { error });
};

/**
 * PATCH versions: minor upgrades of the resource's images (components/versions.ts):
 * Kubo and ipfs-cluster patch releases, PostgreSQL minor releases. A major
 * change (here) is a 400 naming `versions.<image>`; a downgrade or an image the
 * resource's template does not run (the service) a 409, like an option it lacks.
 */
const versionChanges = z
  .strictObject({
    kubo: versionString("kubo").optional().meta({ description: "Kubo: a patch release of the running major.minor, e.g. 0.39.1." }),
    ipfsCluster: versionString("ipfsCluster")
      .optional()
      .meta({ description: "ipfs-cluster: a patch release of the running major.minor, e.g. 1.1.7." }),
    postgres: versionString("postgres").optional().meta({ description: "PostgreSQL: a minor release of the running major, e.g. 15.8." }),
  })
  .meta({
    description: "Image versions to move to (newer, same major): the cluster rolls one peer at a time, a database takes a backup first.",
  });

export const updateResourceBody = z
  .strictObject({ size: z.enum(sizeNames).optional(), options: optionChanges.optional(), versions: versionChanges.optional() })
  .refine((b) => b.size !== undefined || b.options !== undefined || b.versions !== undefined, {
    message: "give size, options, versions or several",
    path: ["size"],
  })
  .meta({ minProperties: 1 });
export type UpdateResourceBody = z.infer<typeof updateResourceBody>;

/**
 * A page cursor: the last resource's creation time (ms since 1970, before the
 * year 5000) and id. Every string of this shape is a cursor the listing takes.
 */
export const cursorPattern = /^[0-9]{1,14}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const listResourcesQuery = z.strictObject({
  status: z.enum(resourceStatuses).optional(),
  template: z.enum(templateIds).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().regex(cursorPattern, "is not valid").optional().meta({ description: "nextCursor of the previous page." }),
});

/**
 * Idempotency-Key: 1 to 255 visible ASCII characters, spaces inside only (an
 * HTTP header loses leading and trailing spaces).
 */
export const idempotencyKeySchema = { type: "string", minLength: 1, maxLength: 255, pattern: "^[!-~]([ -~]*[!-~])?$" } as const;
export const idempotencyKeyPattern = new RegExp(idempotencyKeySchema.pattern);

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
  /** Image versions the resource was moved to (PATCH versions); others run the service's defaults. */
  versions: z.record(z.string(), z.string()),
  status: z.enum(resourceStatuses),
  stage: z.string().nullable(),
  progress: z.number().int(),
  endpoint: z.record(z.string(), z.string()).nullable(),
  configuration: z.record(z.string(), z.unknown()).nullable(),
  lastError: z.string().nullable(),
  drift: z.record(z.string(), z.unknown()).nullable(),
  volumes: z
    .array(
      z.object({
        name: z.string(),
        mounted: z.boolean(),
        sizeBytes: z.number().int(),
        usedBytes: z.number().int(),
        availableBytes: z.number().int(),
      }),
    )
    .optional()
    .meta({
      description:
        "GET /v1/resources/:id on this machine's Docker host, when the volumes' sizes are enforced (configuration.storage): each volume's size and use.",
    }),
  stack: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  deletedAt: timestamp.nullable(),
  lastBackupAt: timestamp.nullable().meta({ description: "Databases: the last verified backup the health rounds saw." }),
  lastVerifiedRestoreAt: timestamp
    .nullable()
    .meta({ description: "Databases: the last backup restored into a scratch server and checked." }),
});

/** What the API sends: the service's views are typed from these, so the document and the bodies agree. */
export type ResourceView = z.output<typeof resourceView>;
export type OperationView = z.output<typeof operationView>;
export type EventView = z.output<typeof eventView>;

export const acceptedView = z.object({
  resource: resourceView,
  operation: operationView,
  queued: z.boolean().meta({ description: "True when the operation waits behind others on the same resource." }),
  merged: z.boolean().optional().meta({ description: "A refresh behind a queued refresh: the answer is that refresh." }),
  estimatedMonthlyCost: estimateView
    .optional()
    .meta({ description: "A create's answer: the estimated monthly cost at the caller's tier." }),
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

export const resourcePage = z.object({
  resources: z.array(resourceView),
  nextCursor: z.string().nullable().meta({ description: "Pass as cursor for the next page; null on the last." }),
});
export const credentialsView = z.object({ credentials: z.record(z.string(), z.string()) });
export const eventsPage = z.object({ events: z.array(eventView) });
export const operationsView = z.object({ operations: z.array(operationView) });
export const cancelView = z.object({ operation: operationView });
export const templateCatalogue = z.object({
  templates: z.array(
    z.object({
      id: z.string(),
      description: z.string(),
      sizes: z.array(z.enum(sizeNames)),
      defaultSize: z.enum(sizeNames),
      sizeSpecs: z
        .record(
          z.enum(sizeNames),
          z.object({
            cpus: z.number().meta({ description: "CPU limit of what sizeUnit names." }),
            memoryMb: z.number().meta({ description: "Memory limit of what sizeUnit names, MB." }),
            storageGb: z.number().meta({ description: "Storage of its data, GB." }),
            footprint: z
              .object({ cpus: z.number(), memoryMb: z.number() })
              .meta({ description: "What the quota counts at the default options: the limits of all the containers, sidecars included." }),
            estimatedMonthlyCost: estimateView,
          }),
        )
        .meta({ description: "What each size is for this template." }),
      sizeUnit: z.string().meta({ description: "What sizeSpecs' CPU and memory limits apply to." }),
      targets: z.array(z.string()).meta({ description: "What this instance offers (clouds only with their credentials)." }),
      parameters: z.record(z.string(), z.unknown()).meta({ description: "JSON Schema of the template's options." }),
    }),
  ),
});

/** A response body checked by the compiler against the schema the document publishes for it. */
export const body = <S extends z.ZodType>(_schema: S, value: z.output<S>): z.output<S> => value;

export const errorView = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    requestId: z.string().optional(),
  }),
});
