// The OpenAPI paths of usage, budgets and billing (issue 15), generated from
// usage.schemas.ts; merged into the document by openapi.ts.
import { z } from "zod";
import { errorView } from "./resources.schemas.js";
import * as s from "./usage.schemas.js";

const jsonSchema = (schema: z.ZodType, io: "input" | "output" = "output") => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
};
const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema: jsonSchema(schema) } } });
const unauthenticated = { "401": json(errorView, "Missing or unknown API key, or no live console session.") };
const csrf = { "403": json(errorView, "A console session's request without its X-CSRF-Token (`csrf_failed`).") };
const invalid = { "400": json(errorView, "Invalid request: `error.fields` names each wrong field.") };
const monthParameter = [{ name: "month", in: "query", required: true, schema: jsonSchema(s.usageQuery.shape.month, "input") }];

export function usagePaths() {
  return {
    "/v1/usage": {
      get: {
        summary: "What the team used in a month: one line per resource (its segments at each size and price) and the total",
        parameters: monthParameter,
        responses: { "200": json(s.usageView, "The month's usage"), ...invalid, ...unauthenticated },
      },
    },
    "/v1/usage.csv": {
      get: {
        summary: "The month's usage as CSV: one row per segment, the resource's cost on its first row, a total row",
        parameters: monthParameter,
        responses: {
          "200": { description: "CSV (RFC 4180, CRLF)", content: { "text/csv": { schema: { type: "string" } } } },
          ...invalid,
          ...unauthenticated,
        },
      },
    },
    "/v1/team/budget": {
      get: {
        summary: "The team's monthly budget and the month's cost so far",
        responses: { "200": json(s.budgetView, "The budget"), ...unauthenticated },
      },
      put: {
        summary:
          "Set (or remove, null) the team's monthly budget: webhooks at 80 % and 100 %; over it, creates are refused unless the tier allows overage",
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(s.budgetBody, "input") } } },
        responses: {
          "200": json(s.budgetView, "The budget"),
          ...invalid,
          ...unauthenticated,
          ...csrf,
          "413": json(errorView, "Body too large."),
        },
      },
    },
    "/v1/team/billing": {
      get: {
        summary: "Whether usage is reported to Stripe, and the team's Stripe customer",
        responses: { "200": json(s.billingView, "Billing"), ...unauthenticated },
      },
    },
    "/v1/team/billing/stripe-customer": {
      post: {
        summary: "Link the team to a new Stripe customer made for it; its usage is then reported to Stripe's Billing Meters",
        responses: {
          "201": json(s.billingView, "Linked"),
          ...unauthenticated,
          ...csrf,
          "409": json(errorView, "Billing is off (`billing_off`: no STRIPE_API_KEY) or the team is linked already (`already_linked`)."),
        },
      },
    },
  };
}
