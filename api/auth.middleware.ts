// Every /v1 request acts for a team: the one of its API key (Authorization:
// Bearer), or of the console session its cookie names (issue 14). A session's
// state-changing requests must carry the session's CSRF token in X-CSRF-Token:
// the cookie is SameSite=Strict already, and a header no other site can set or
// read is the second lock (a form or a cross-site fetch cannot add it).
import type { RequestHandler } from "express";
import { ApiError, unauthenticated } from "./errors.js";
import { cookieValue, sameSecret, sessionCookie, type SessionService } from "./sessions.service.js";
import type { TeamService } from "./teams.service.js";

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export function requireTeam(teams: TeamService, sessions: SessionService): RequestHandler {
  return async (req, res, next) => {
    if (req.headers.authorization !== undefined) {
      const [scheme, key] = req.headers.authorization.split(" ");
      const actor = scheme === "Bearer" && key ? await teams.authenticate(key) : undefined;
      if (!actor) {
        next(unauthenticated());
        return;
      }
      res.locals.actor = actor;
      next();
      return;
    }
    const token = cookieValue(req.headers.cookie, sessionCookie);
    const session = token ? await sessions.find(token) : undefined;
    if (!session) {
      next(unauthenticated());
      return;
    }
    if (!safeMethods.has(req.method)) {
      const csrf = req.header("x-csrf-token");
      if (!csrf || !sameSecret(csrf, session.csrfToken)) {
        next(
          new ApiError(403, "csrf_failed", "a console session's state-changing request needs its X-CSRF-Token", [
            { field: "X-CSRF-Token", message: "missing or not this session's" },
          ]),
        );
        return;
      }
    }
    res.locals.actor = session.actor;
    res.locals.session = session;
    next();
  };
}
