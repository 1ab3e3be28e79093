// The OpenAPI paths of the console's API (issue 14), generated from
// teams.schemas.ts; merged into the document by openapi.ts.
import { z } from "zod";
import { json, jsonSchema, sessionErrors } from "./openapi-parts.js";
import { errorView } from "./resources.schemas.js";
import * as s from "./teams.schemas.js";

const { unauthenticated, csrf, invalid } = sessionErrors;
const queryParameters = (schema: z.ZodObject) =>
  Object.entries((jsonSchema(schema, "input") as { properties: Record<string, unknown> }).properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema,
  }));

export function teamPaths() {
  return {
    "/v1/sessions": {
      post: {
        security: [],
        summary: "Console sign-in: an API key exchanged for an HttpOnly, SameSite=Strict session cookie (Secure over TLS)",
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(s.signInBody, "input") } } },
        responses: {
          "201": {
            ...json(s.sessionView, "Signed in: the cookie is set; `session.csrfToken` goes in X-CSRF-Token of state-changing requests."),
            headers: {
              "Set-Cookie": { description: "provisioner_session=<token>; HttpOnly; SameSite=Strict", schema: { type: "string" } },
            },
          },
          ...invalid,
          "401": json(errorView, "Unknown, malformed or revoked API key."),
          "413": json(errorView, "Body too large."),
        },
      },
    },
    "/v1/session": {
      get: {
        summary: "Who the caller is: the team, and the console session if a cookie made the request",
        responses: { "200": json(s.sessionView, "The caller"), ...unauthenticated },
      },
      delete: {
        summary: "Sign out: ends the console session and clears its cookie",
        responses: {
          "204": { description: "Signed out" },
          ...unauthenticated,
          ...csrf,
          "404": json(errorView, "The request carries an API key, not a session."),
        },
      },
    },
    "/v1/team": {
      get: {
        summary: "The caller's team and its quota usage",
        responses: { "200": json(s.teamDetailView, "The team"), ...unauthenticated },
      },
    },
    "/v1/team/api-keys": {
      get: {
        summary: "The team's API keys, newest first (revoked ones too)",
        responses: { "200": json(s.apiKeysView, "Keys"), ...unauthenticated },
      },
      post: {
        summary: "Create another API key for the team; the key is in the answer, once",
        responses: { "201": json(s.createdApiKeyView, "The new key"), ...unauthenticated, ...csrf },
      },
    },
    "/v1/team/api-keys/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: jsonSchema(s.apiKeyId) }],
      delete: {
        summary: "Revoke a key: it stops working, and its console sessions end at once",
        responses: {
          "200": json(s.apiKeyView, "The revoked key"),
          ...unauthenticated,
          ...csrf,
          "404": json(errorView, "No such key in the team."),
          "409": json(errorView, "The key of this very request (`current_key`): revoke it with another."),
        },
      },
    },
    "/v1/team/audit": {
      get: {
        summary: "The team's audit log, newest first: credential reads, keys created and revoked",
        parameters: queryParameters(s.auditQuery),
        responses: { "200": json(s.auditPage, "A page"), ...invalid, ...unauthenticated },
      },
    },
    "/v1/events": {
      get: {
        summary:
          "Every event of the team's resources: JSON, or one Server-Sent Events stream (Accept: text/event-stream, resumable with Last-Event-ID)",
        parameters: queryParameters(s.teamEventsQuery),
        responses: {
          "200": {
            description: "Events",
            content: { "application/json": { schema: jsonSchema(s.teamEventsPage) }, "text/event-stream": { schema: { type: "string" } } },
          },
          ...invalid,
          ...unauthenticated,
          "429": {
            ...json(errorView, "The team's open streams are at EVENT_STREAMS_PER_TEAM (`too_many_streams`); see Retry-After."),
            headers: { "Retry-After": { description: "Seconds.", schema: { type: "integer", minimum: 0 } } },
          },
        },
      },
    },
  };
}
