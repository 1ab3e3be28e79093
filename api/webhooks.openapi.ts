// The OpenAPI paths of /v1/webhooks (issue 12), generated from
// webhooks.schemas.ts; merged into the document by openapi.ts.
import { z } from "zod";
import { json, jsonSchema, sessionErrors } from "./openapi-parts.js";
import { errorView } from "./resources.schemas.js";
import * as s from "./webhooks.schemas.js";

const { unauthenticated, csrf, invalid } = sessionErrors;
const missing = { "404": json(errorView, "No such webhook in the caller's team.") };
const idParameter = { name: "id", in: "path", required: true, schema: jsonSchema(s.webhookId) };
const queryParameters = (schema: z.ZodObject) =>
  Object.entries((jsonSchema(schema, "input") as { properties: Record<string, unknown> }).properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema,
  }));

export function webhookPaths() {
  return {
    "/v1/webhooks": {
      post: {
        summary:
          "Create a webhook: events of the chosen types are POSTed to the URL, signed (Standard Webhooks) with the secret in this answer, shown once",
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(s.createWebhookBody, "input") } } },
        responses: {
          "201": json(s.createdWebhookView, "The webhook and its signing secret"),
          ...invalid,
          ...unauthenticated,
          "403": json(
            errorView,
            "The URL's destination is refused (`destination_refused`, naming `url`: a private, loopback or link-local address), or a console session's request without its X-CSRF-Token.",
          ),
          "409": json(errorView, `The team has ${s.webhooksPerTeam} webhooks already (\`too_many_webhooks\`).`),
          "413": json(errorView, "Body too large."),
        },
      },
      get: {
        summary: "The team's webhooks, newest first (never their secrets)",
        responses: { "200": json(s.webhooksView, "Webhooks"), ...unauthenticated },
      },
    },
    "/v1/webhooks/{id}": {
      parameters: [idParameter],
      get: {
        summary: "One webhook (never its secret)",
        responses: { "200": json(s.webhookView, "The webhook"), ...unauthenticated, ...missing },
      },
      delete: {
        summary: "Delete the webhook and its delivery log; what was queued for it is not sent",
        responses: { "204": { description: "Deleted" }, ...unauthenticated, ...csrf, ...missing },
      },
    },
    "/v1/webhooks/{id}/deliveries": {
      parameters: [idParameter],
      get: {
        summary: "The delivery log, newest first: each event sent to the webhook, its status and every attempt (status code, error, time)",
        parameters: queryParameters(s.deliveriesQuery),
        responses: { "200": json(s.deliveriesPage, "A page"), ...invalid, ...unauthenticated, ...missing },
      },
    },
  };
}
