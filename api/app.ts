// The Express application: routes wired to their dependencies, no listening.
import express, { type Express } from "express";
import { pinoHttp } from "pino-http";
import type { Logger } from "pino";
import { requireTeam } from "./auth.middleware.js";
import type { Database } from "../core/db.js";
import { errorMiddleware } from "./errors.js";
import type { PgListener } from "../core/pg-listener.js";
import { healthRoutes, type ReadinessCheck } from "./health.routes.js";
import type { Metrics } from "./metrics.js";
import { methodNotAllowed } from "./method-not-allowed.middleware.js";
import { openApiDocument } from "./openapi.js";
import { prometheusRoutes } from "./prometheus.routes.js";
import { resourceRoutes } from "./resources.routes.js";
import { backupRoutes } from "./backups.routes.js";
import type { BackupService } from "./backups.service.js";
import type { ResourceService } from "./resources.service.js";
import { StreamSlots } from "./stream-slots.js";
import { TeamService } from "./teams.service.js";
import { templateRoutes } from "./templates.routes.js";
import { consoleRoutes } from "./console.routes.js";
import { SessionService } from "./sessions.service.js";
import { sessionRoutes, signInRoutes } from "./sessions.routes.js";
import { teamEventRoutes } from "./team-events.routes.js";
import { teamRoutes } from "./teams.routes.js";
import { webhookRoutes } from "./webhooks.routes.js";
import type { WebhookService } from "./webhooks.service.js";
import { usageRoutes } from "./usage.routes.js";
import type { UsageService } from "./usage.service.js";

export interface AppContext {
  db: Database;
  logger: Logger;
  resources: ResourceService;
  /** Usage, budgets and billing (issue 15). */
  usage: UsageService;
  /** The team's webhooks (issue 12). */
  webhooks: WebhookService;
  /** Event notifications (SSE). */
  notifications: PgListener;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  /** Shown in /readyz without failing it (see healthRoutes). */
  warnings?: Record<string, string>;
  /** /readyz: this instance and what each instance runs. */
  instances?: () => Promise<Record<string, unknown>>;
  /** Targets this instance offers. */
  targets: readonly string[];
  /** PROVISIONER_SCRAPE_TOKEN: Prometheus discovery and /metrics are off without it. */
  scrapeToken?: string;
  /** EVENT_STREAMS_PER_TEAM, per instance. */
  eventStreamsPerTeam: number;
  /** A database's backups; absent: the routes answer 404. */
  backups?: BackupService;
  /** The web console: its built files (undefined: / says how to build it) and how long a sign-in lasts. */
  console?: { dir?: string; sessionHours: number };
}

/** Polled by probes and Prometheus: their request logs are at debug level. */
const quiet = new Set(["/healthz", "/readyz", "/metrics"]);
/** The path as requested (routers mounted under a prefix strip it from req.url), without the query. */
const pathOf = (req: { url?: string; originalUrl?: string }) => (req.originalUrl ?? req.url ?? "").split("?")[0]!;

export function createApp(context: AppContext): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(context.metrics.httpMiddleware());
  app.use(
    pinoHttp({
      logger: context.logger,
      customLogLevel: (req, res, error) => (quiet.has(pathOf(req)) ? "debug" : error || res.statusCode >= 500 ? "error" : "info"),
      customSuccessMessage: (req, res, ms) => `${req.method} ${pathOf(req)} ${res.statusCode} ${Math.round(ms)}ms`,
      customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode} failed`,
    }),
  );
  app.use(healthRoutes(context.readiness, context.warnings, context.instances));
  const openApi = openApiDocument(context.targets);
  app.get("/v1/openapi.json", (_req, res) => {
    res.json(openApi);
  });
  // Before the team check: Prometheus has its own token, not a team's key.
  app.use(prometheusRoutes(context.db, context.metrics, context.scrapeToken));
  app.use(consoleRoutes(context.console?.dir));
  const teams = new TeamService(context.db);
  const sessions = new SessionService(context.db, teams, (context.console?.sessionHours ?? 12) * 3_600_000);
  app.use(signInRoutes(sessions));
  app.use("/v1", requireTeam(teams, sessions));
  app.use(express.json({ limit: "64kb" }));
  app.use(templateRoutes(context.targets));
  const streams = new StreamSlots(context.eventStreamsPerTeam);
  app.use(resourceRoutes(context.resources, context.notifications, streams));
  if (context.backups) app.use(backupRoutes(context.backups));
  app.use(sessionRoutes(sessions));
  app.use(teamRoutes(context.db, teams));
  app.use(teamEventRoutes(context.db, context.notifications, streams));
  app.use(webhookRoutes(context.webhooks));
  app.use(usageRoutes(context.usage));
  app.use(methodNotAllowed(openApi));
  app.use(errorMiddleware(context.logger));
  return app;
}
