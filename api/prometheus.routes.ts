// What Prometheus reads: GET /metrics (the service's own metrics, which name
// every team's resources) and GET /v1/prometheus/targets (http_sd for every
// ACTIVE or DEGRADED resource). Both are authenticated by Prometheus's own
// token (PROVISIONER_SCRAPE_TOKEN), not a team's API key: Prometheus watches
// all teams, and may do nothing else. Without a token both are off (404).
import crypto from "node:crypto";
import { Router, type RequestHandler } from "express";
import type { Database } from "../core/db.js";
import type { Metrics } from "./metrics.js";
import { ApiError } from "./errors.js";
import { scrapeTargets } from "./prometheus-targets.js";

const digest = (value: string) => crypto.createHash("sha256").update(value).digest();

/** 404 when no token is configured, 401 unless the request bears it. */
function requireScrapeToken(scrapeToken: string | undefined, what: string): RequestHandler {
  return (req, _res, next) => {
    if (!scrapeToken) throw new ApiError(404, "not_configured", `${what} is off: set PROVISIONER_SCRAPE_TOKEN`);
    const given = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "";
    // Equal-length digests: the comparison takes the same time whatever was sent.
    if (!crypto.timingSafeEqual(digest(given), digest(scrapeToken))) {
      throw new ApiError(401, "unauthenticated", "the scrape token is required: Authorization: Bearer <PROVISIONER_SCRAPE_TOKEN>");
    }
    next();
  };
}

export function prometheusRoutes(db: Database, metrics: Metrics, scrapeToken: string | undefined): Router {
  const router = Router();
  router.get("/metrics", requireScrapeToken(scrapeToken, "/metrics"), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  router.get("/v1/prometheus/targets", requireScrapeToken(scrapeToken, "Prometheus service discovery"), async (_req, res) => {
    const resources = await db.resource.findMany({
      where: { status: { in: ["ACTIVE", "DEGRADED"] } },
      select: { id: true, name: true, template: true, target: true, endpoint: true, team: { select: { name: true } } },
      orderBy: { createdAt: "asc" },
    });
    res.json(resources.flatMap(scrapeTargets));
  });
  return router;
}
