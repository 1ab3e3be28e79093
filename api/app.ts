// The Express application: routes wired to their dependencies, no listening.
import express, { type Express } from "express";
import { pinoHttp } from "pino-http";
import type { Logger } from "pino";
import type { Database } from "./db.js";
import { requireTeam } from "./auth.middleware.js";
import { errorMiddleware } from "./errors.js";
import { healthRoutes } from "./health.routes.js";
import { TeamService } from "./teams.service.js";
import { templateRoutes } from "./templates.routes.js";

export interface AppContext {
  db: Database;
  logger: Logger;
}

export function createApp({ db, logger }: AppContext): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(pinoHttp({ logger, autoLogging: { ignore: (req) => req.url === "/healthz" } }));
  app.use(healthRoutes(db));
  app.use("/v1", requireTeam(new TeamService(db)));
  app.use(express.json({ limit: "64kb" }));
  app.use(templateRoutes());
  app.use(errorMiddleware(logger));
  return app;
}
