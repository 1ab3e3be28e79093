// Request validation with the API's zod schemas: every problem becomes a
// field-level error in a 400, before anything is created.
import type { z } from "zod";
import { ApiError, type FieldError } from "./errors.js";

export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: "is not a known field" }));
    }
    return [{ field: at || prefix || "body", message: issue.message }];
  });
}

/** Parses `value` or throws a 400 naming every wrong field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query" | "path"): z.output<S> {
  const result = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (result.success) return result.data;
  const fields = fieldErrors(result.error, where === "body" ? undefined : where);
  throw new ApiError(400, "invalid_request", `invalid ${where}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`, fields);
}
