// Pieces every part of the OpenAPI document is written with (openapi.ts and
// the *.openapi.ts files it merges): JSON Schema from the zod schemas, and the
// error responses the console's session routes share.
import { z } from "zod";
import { errorView } from "./resources.schemas.js";

/** A zod schema as JSON Schema, without the dialect line (the document states it once). */
export const jsonSchema = (schema: z.ZodType, io: "input" | "output" = "output") => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
};

/** A JSON response of `schema`. */
export const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema: jsonSchema(schema) } },
});

/** Errors of the routes an API key or a console session may call. */
export const sessionErrors = {
  unauthenticated: { "401": json(errorView, "Missing or unknown API key, or no live console session.") },
  csrf: { "403": json(errorView, "A console session's request without its X-CSRF-Token (`csrf_failed`).") },
  invalid: { "400": json(errorView, "Invalid request: `error.fields` names each wrong field.") },
};
