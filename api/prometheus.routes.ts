// GET /v1/prometheus/targets: Prometheus http_sd for every ACTIVE or DEGRADED
// resource. Authenticated by its own token (PROVISIONER_SCRAPE_TOKEN), not a
// team's API key: Prometheus watches all teams, and may do nothing else.
import crypto from "node:crypto";
import { Router } from "express";
import type { Database } from "./db.js";
import { ApiError } from "./errors.js";
import { scrapeTargets } from "./prometheus.targets.js";

const digest = (value: string) => crypto.createHash("sha256").update(value).digest();

export function prometheusRoutes(db: Database, scrapeToken: string | undefined): Router {
  const router = Router();
  router.get("/v1/prometheus/targets", async (req, res) => {
    if (!scrapeToken) throw new ApiError(404, "not_configured", "Prometheus service discovery is off: set PROVISIONER_SCRAPE_TOKEN");
    const given = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "";
    // Equal-length digests: the comparison takes the same time whatever was sent.
    if (!crypto.timingSafeEqual(digest(given), digest(scrapeToken))) {
      throw new ApiError(401, "unauthenticated", "the scrape token is required: Authorization: Bearer <PROVISIONER_SCRAPE_TOKEN>");
    }
    const resources = await db.resource.findMany({
      where: { status: { in: ["ACTIVE", "DEGRADED"] } },
      select: { id: true, name: true, template: true, target: true, endpoint: true, team: { select: { name: true } } },
      orderBy: { createdAt: "asc" },
    });
    res.json(resources.flatMap(scrapeTargets));
  });
  return router;
}
