// Liveness and readiness.
import { Router } from "express";
import type { Database } from "../core/db.js";
import type { ReadinessCheck } from "../core/readiness.js";

export type { ReadinessCheck } from "../core/readiness.js";

export function databaseCheck(db: Database): ReadinessCheck {
  return async () => {
    try {
      const rows = await db.$queryRaw<{ pending: bigint }[]>`
        SELECT count(*) AS pending FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL`;
      return Number(rows[0]?.pending ?? 0) === 0 ? undefined : "migration pending";
    } catch {
      return "unreachable";
    }
  };
}

/**
 * `warnings`: what the service runs with but an operator must know (e.g. that
 * resources are not isolated from each other); they do not make it unready.
 */
export function healthRoutes(
  checks: Record<string, ReadinessCheck>,
  warnings: Record<string, string> = {},
  /** Which instance this is and what every instance runs (several instances share one database). */
  instances?: () => Promise<Record<string, unknown>>,
): Router {
  const router = Router();
  // Liveness: the process serves requests.
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // Readiness: every dependency the service needs to provision answers.
  router.get("/readyz", async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => checks[name]!()));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i] ?? "ok"]));
    const ok = results.every((r) => r === undefined);
    // Said even when not ready: an operator looks here for which instance this is.
    const placement = instances ? await instances().catch(() => undefined) : undefined;
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? "ok" : "unavailable", checks: report, ...(Object.keys(warnings).length && { warnings }), ...placement });
  });
  return router;
}
