// The web console (issue 14), served by the service itself at / (one origin:
// the console's requests carry the session cookie, SameSite=Strict). The
// bootstrap builds it (tools/bootstrap/console.ts) and names its folder in
// PROVISIONER_CONSOLE_DIR; without one, / says how to get it.
import fs from "node:fs";
import path from "node:path";
import express, { Router, type Response } from "express";

/** The console talks to this origin only; no inline script, no framing. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

function secure(res: Response): void {
  res.setHeader("Content-Security-Policy", contentSecurityPolicy);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
}

/**
 * Every path but those of the API and the probes: the route must not even
 * match those, or Express would answer their OPTIONS with this route's Allow.
 */
const pagePath = /^\/(?!(v1|healthz|readyz|metrics)(\/|$))/;

export function consoleRoutes(dir: string | undefined): Router {
  const router = Router();
  const index = dir && path.join(dir, "index.html");
  if (!index || !fs.existsSync(index)) {
    router.get("/", (_req, res) => {
      res
        .status(404)
        .type("text/plain")
        .send("The web console is not built here: `npm start` builds it (PROVISIONER_CONSOLE_DIR names a build).\n");
    });
    return router;
  }
  // Vite names assets by content hash: cached for good; index.html never.
  router.use(
    "/assets",
    express.static(path.join(dir, "assets"), {
      immutable: true,
      maxAge: "365d",
      fallthrough: false,
      setHeaders: (res) => secure(res),
    }),
  );
  const html = fs.readFileSync(index);
  router.get(pagePath, (req, res, next) => {
    if (!req.accepts("html")) return next();
    secure(res);
    res.setHeader("Cache-Control", "no-cache");
    res.type("html").send(html);
  });
  return router;
}
