// The OpenAPI paths of usage, budgets and billing (issue 15), generated from
// usage.schemas.ts; merged into the document by openapi.ts.
import { json, jsonSchema, sessionErrors } from "./openapi-parts.js";
import { errorView } from "./resources.schemas.js";
import * as s from "./usage.schemas.js";

const { unauthenticated, csrf, invalid } = sessionErrors;
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
