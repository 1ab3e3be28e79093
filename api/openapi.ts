// GET /v1/openapi.json: the OpenAPI 3.1 document, generated from the same zod
// schemas that validate requests and type the response bodies, so neither can
// disagree with it (test/openapi-contract.test.ts runs Schemathesis against it).
import { z } from "zod";
import * as s from "./resources.schemas.js";
import { idempotencyKeySchema } from "./resources.schemas.js";
import { backupRequestedView, backupsView } from "./backups.schemas.js";
import { teamPaths } from "./teams.openapi.js";
import { usagePaths } from "./usage.openapi.js";
import { webhookPaths } from "./webhooks.openapi.js";
import { json, jsonSchema } from "./openapi-parts.js";

const errors = {
  "400": json(s.errorView, "Invalid request: `error.fields` names each wrong field."),
  "401": json(s.errorView, "Missing or unknown API key."),
  "404": json(s.errorView, "No such resource in the caller's team."),
};
/** A fair-use limit (queued operations, open streams): the Retry-After header says when to try again. */
const tooMany = {
  "429": {
    ...json(
      s.errorView,
      "A fair-use limit: too many queued operations (`queue_full`) or open streams (`too_many_streams`); see Retry-After.",
    ),
    headers: { "Retry-After": { description: "Seconds after which trying again may succeed.", schema: { type: "integer", minimum: 0 } } },
  },
};
/** Every /v1 route answers 401 without a valid team key. */
const unauthenticated = { "401": json(s.errorView, "Missing or unknown API key.") };
const idParameter = { name: "id", in: "path", required: true, schema: jsonSchema(s.resourceId) };

/** Query parameters from a zod object: one parameter per property. */
function queryParameters(schema: z.ZodObject) {
  const properties = (jsonSchema(schema, "input") as { properties: Record<string, unknown> }).properties;
  return Object.entries(properties).map(([name, schema]) => ({ name, in: "query", required: false, schema }));
}

/** `targets`: what this instance offers. */
export function openApiDocument(targets: readonly string[] = s.targets) {
  const accepted = json(s.acceptedView, "Accepted: the operation is queued (see `queued`) or running.");
  return {
    openapi: "3.1.0",
    info: { title: "Provisioner API", version: "1.0.0", description: "IPFS clusters and PostgreSQL on demand, provisioned with Pulumi." },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "A team API key (npm run create-team)." },
        scrapeToken: { type: "http", scheme: "bearer", description: "PROVISIONER_SCRAPE_TOKEN: Prometheus's, not a team's." },
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      "/v1/templates": {
        get: {
          summary: "What can be provisioned, with each template's parameters",
          responses: { "200": json(s.templateCatalogue, "The catalogue"), ...unauthenticated },
        },
      },
      "/v1/resources": {
        post: {
          summary: "Provision a resource",
          parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: idempotencyKeySchema }],
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(s.createResourceBodyFor(targets), "input") } },
          },
          responses: {
            "202": accepted,
            ...errors,
            "403": json(
              s.errorView,
              "The team's quota does not allow it (`quota_exceeded`), or the month's cost reached its budget and the tier allows no overage (`budget_exceeded`, naming the budget).",
            ),
            "409": json(s.errorView, "The name is taken, or the Idempotency-Key was used with another body."),
            "413": json(s.errorView, "Body too large."),
            ...tooMany,
          },
        },
        get: {
          summary: "The team's resources, newest first",
          parameters: queryParameters(s.listResourcesQuery),
          responses: { "200": json(s.resourcePage, "A page"), ...errors },
        },
      },
      "/v1/resources/{id}": {
        parameters: [idParameter],
        get: {
          summary: "One resource: status, endpoint, configuration, progress, last error (never credentials)",
          responses: { "200": json(s.resourceView, "The resource"), ...errors },
        },
        patch: {
          summary:
            "Resize, change options or move to newer image versions (a Pulumi update); options merge into the current ones; `versions` " +
            "takes minor upgrades only (Kubo and ipfs-cluster patch releases, PostgreSQL minors): a major change is a 400 " +
            "naming `versions.<image>` (a downgrade or an image the template does not run: 409). A cluster rolls one node at a time; a database takes a backup first.",
          requestBody: { required: true, content: { "application/json": { schema: jsonSchema(s.updateResourceBody, "input") } } },
          responses: {
            "202": accepted,
            ...errors,
            "403": json(s.errorView, "Over quota."),
            "409": json(
              s.errorView,
              "Deleted or being deleted, or options the resource's template does not have or its current options contradict (`options_conflict`, naming the field).",
            ),
            ...tooMany,
          },
        },
        delete: {
          summary: "Destroy the resource and remove its stack; the row stays as DELETED (a second DELETE answers with the first)",
          responses: { "202": accepted, ...errors, "409": json(s.errorView, "Already deleted.") },
        },
      },
      "/v1/resources/{id}/credentials": {
        parameters: [idParameter],
        get: {
          summary: "The resource's credentials, decrypted; every read is audited",
          responses: {
            "200": json(s.credentialsView, "Credentials"),
            ...errors,
            "409": json(
              s.errorView,
              "Not provisioned yet (`credentials_unavailable`), or encrypted with a key the service no longer has (`credentials_key_missing`, naming the key id).",
            ),
          },
        },
      },
      "/v1/resources/{id}/events": {
        parameters: [idParameter, ...queryParameters(s.eventsQuery)],
        get: {
          summary: "Progress events: JSON, or Server-Sent Events with Accept: text/event-stream (resumable with Last-Event-ID)",
          responses: {
            "200": {
              description: "Events",
              content: { "application/json": { schema: jsonSchema(s.eventsPage) }, "text/event-stream": { schema: { type: "string" } } },
            },
            ...errors,
            ...tooMany,
          },
        },
      },
      "/v1/resources/{id}/operations": {
        parameters: [idParameter],
        get: { summary: "The resource's operations, oldest first", responses: { "200": json(s.operationsView, "Operations"), ...errors } },
      },
      "/v1/resources/{id}/backups": {
        parameters: [idParameter],
        get: {
          summary: "A database's backups (newest first), when the last succeeded, why they fail, the point-in-time window",
          responses: {
            "200": json(backupsView, "Backups"),
            ...errors,
            "409": json(s.errorView, "Not a database with a backup store here."),
          },
        },
        post: {
          summary: "A backup now (the sidecar takes it within seconds; on Kubernetes a Job of the backup CronJob)",
          responses: {
            "202": json(backupRequestedView, "Requested"),
            ...errors,
            "409": json(s.errorView, "Not a running database with a backup store here."),
            "503": json(s.errorView, "A Kubernetes database whose cluster could not start the backup Job."),
          },
        },
      },
      "/v1/resources/{id}/refresh": {
        parameters: [idParameter],
        post: {
          summary: "Drift check: refresh the state and compare (behind a queued refresh: that refresh)",
          responses: { "202": accepted, ...errors, "409": json(s.errorView, "Deleted or being deleted."), ...tooMany },
        },
      },
      "/v1/resources/{id}/cancel": {
        parameters: [idParameter],
        post: {
          summary: "Cancel the running (else the next queued) operation",
          responses: { "202": json(s.cancelView, "Cancelling"), ...errors, "409": json(s.errorView, "Nothing to cancel.") },
        },
      },
      ...teamPaths(),
      ...webhookPaths(),
      ...usagePaths(),
      "/v1/openapi.json": {
        get: {
          security: [],
          summary: "This document",
          responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
        },
      },
      "/healthz": { get: { security: [], summary: "Liveness", responses: { "200": { description: "Alive" } } } },
      "/readyz": {
        get: {
          security: [],
          summary: "Readiness: database, Docker and Pulumi",
          responses: { "200": { description: "Ready" }, "503": { description: "Not ready" } },
        },
      },
      "/metrics": {
        get: {
          security: [{ scrapeToken: [] }],
          summary: "Prometheus metrics; Authorization: Bearer <PROVISIONER_SCRAPE_TOKEN>, not a team's key",
          responses: {
            "200": { description: "Metrics" },
            "401": json(s.errorView, "Without the scrape token."),
            "404": json(s.errorView, "No scrape token configured: off."),
          },
        },
      },
    },
  };
}
