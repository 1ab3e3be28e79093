// Errors the service answers with: typed where a client can act on them,
// a generic 500 (with the request id, nothing else) for everything else.
import type { ErrorRequestHandler } from "express";
import type { Logger } from "pino";
import { body, errorView } from "./resources.schemas.js";

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
    /** Sent as Retry-After (429: when trying again may succeed). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** 429: a fair-use limit; the client may retry after `retryAfterSeconds`. */
export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number) =>
  new ApiError(429, code, message, undefined, retryAfterSeconds);

export const unauthenticated = () => new ApiError(401, "unauthenticated", "a valid API key is required: Authorization: Bearer <key>");

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(error.retryAfterSeconds));
      res
        .status(error.status)
        .json(body(errorView, { error: { code: error.code, message: error.message, ...(error.fields && { fields: error.fields }) } }));
      return;
    }
    // express.json(): malformed or oversized bodies arrive as errors with a status.
    const status = (error as { status?: number }).status;
    if (status === 400 || status === 413) {
      const code = status === 413 ? "body_too_large" : "malformed_json";
      res.status(status).json(
        body(errorView, {
          error: { code, message: status === 413 ? "the request body is too large" : "the request body is not valid JSON" },
        }),
      );
      return;
    }
    // Prisma: no pooled connection in time (P2024), a transaction past its timeout (P2028).
    const prismaCode = (error as { code?: unknown }).code;
    if (prismaCode === "P2024" || prismaCode === "P2028") {
      logger.warn({ err: error, requestId: req.id }, "the database is overloaded");
      res.setHeader("Retry-After", "5");
      res.status(503).json(body(errorView, { error: { code: "overloaded", message: "the service is overloaded: try again shortly" } }));
      return;
    }
    logger.error({ err: error, requestId: req.id }, "unhandled error");
    res
      .status(500)
      .json(body(errorView, { error: { code: "internal", message: "internal error", requestId: String(req.id as string | number) } }));
  };
}
