// Console sign-in and sign-out (issue 14): POST /v1/sessions exchanges an API
// key for an HttpOnly, SameSite=Strict cookie (Secure over TLS); the answer
// carries the session's CSRF token, which the console keeps in memory only.
import express, { Router, type Request, type Response } from "express";
import { ApiError, unauthenticated } from "./errors.js";
import { body } from "./resources.schemas.js";
import { sessionCookie, type Session, type SessionService } from "./sessions.service.js";
import * as schemas from "./teams.schemas.js";
import { validate } from "./validate.js";

/** TLS at this service, or at a proxy in front of it that says so. */
const overTls = (req: Request) => req.secure || req.header("x-forwarded-proto") === "https";

function cookie(req: Request, value: string, maxAgeSeconds: number): string {
  return [
    `${sessionCookie}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(overTls(req) ? ["Secure"] : []),
  ].join("; ");
}

export const sessionView = (session: Session) =>
  body(schemas.sessionView, {
    team: { id: session.actor.team.id, name: session.actor.team.name, tier: session.actor.team.tier },
    session: { csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() },
  });

/** POST /v1/sessions: before the team check (it is how a browser gets one). */
export function signInRoutes(sessions: SessionService): Router {
  const router = Router();
  router.post("/v1/sessions", express.json({ limit: "64kb" }), async (req, res) => {
    const { apiKey } = validate(schemas.signInBody, req.body, "body");
    const signedIn = await sessions.signIn(apiKey);
    if (!signedIn) throw unauthenticated();
    const maxAge = Math.floor((signedIn.session.expiresAt.getTime() - Date.now()) / 1000);
    res.setHeader("Set-Cookie", cookie(req, signedIn.token, maxAge));
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(sessionView(signedIn.session));
  });
  return router;
}

/** GET and DELETE /v1/session: after the team check. */
export function sessionRoutes(sessions: SessionService): Router {
  const router = Router();
  router.get("/v1/session", (_req, res: Response) => {
    const session = res.locals.session as Session | undefined;
    if (session) {
      res.setHeader("Cache-Control", "no-store");
      res.json(sessionView(session));
      return;
    }
    const { team } = res.locals.actor as Session["actor"];
    res.json(body(schemas.sessionView, { team: { id: team.id, name: team.name, tier: team.tier }, session: null }));
  });
  router.delete("/v1/session", async (req, res) => {
    const session = res.locals.session as Session | undefined;
    if (!session) throw new ApiError(404, "no_session", "this request carries an API key, not a console session");
    await sessions.signOut(session.id);
    res.setHeader("Set-Cookie", cookie(req, "", 0));
    res.status(204).end();
  });
  return router;
}
