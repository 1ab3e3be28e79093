// Liveness and readiness.
import { Router } from "express";
import type { Database } from "./db.js";

export function healthRoutes(db: Database): Router {
  const router = Router();
  // Liveness: the process serves requests.
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // Readiness: the database answers and its schema is migrated.
  router.get("/readyz", async (_req, res) => {
    try {
      const rows = await db.$queryRaw<{ pending: bigint }[]>`
        SELECT count(*) AS pending FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL`;
      const ok = Number(rows[0]?.pending ?? 0) === 0;
      res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "unavailable", checks: { database: ok ? "ok" : "migration pending" } });
    } catch {
      res.status(503).json({ status: "unavailable", checks: { database: "unreachable" } });
    }
  });
  return router;
}
