// Every /v1 request acts for the team its API key belongs to.
import type { RequestHandler } from "express";
import { unauthenticated } from "./errors.js";
import type { TeamService } from "./teams.service.js";

export function requireTeam(teams: TeamService): RequestHandler {
  return async (req, res, next) => {
    const [scheme, key] = (req.headers.authorization ?? "").split(" ");
    const actor = scheme === "Bearer" && key ? await teams.authenticate(key) : undefined;
    if (!actor) {
      next(unauthenticated());
      return;
    }
    res.locals.actor = actor;
    next();
  };
}
