// 405 for a method the document does not list on a path it does list (TRACE,
// PUT, ...), with Allow naming the methods it does: an HTTP client learns the
// contract from the answer. Paths outside the document stay 404.
import type { RequestHandler } from "express";

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

interface PathRule {
  pattern: RegExp;
  allow: string;
}

/** `{id}` matches one path segment. */
function rulesOf(paths: Record<string, Record<string, unknown>>): PathRule[] {
  return Object.entries(paths).map(([path, item]) => {
    const escaped = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+");
    const listed = Object.keys(item)
      .filter((key) => methods.includes(key))
      .map((m) => m.toUpperCase());
    // Express answers HEAD for every GET route.
    if (listed.includes("GET")) listed.push("HEAD");
    return { pattern: new RegExp(`^${escaped}/?$`), allow: listed.join(", ") };
  });
}

/** Mounted after every route: a request that reaches it matched none. */
export function methodNotAllowed(document: { paths: Record<string, Record<string, unknown>> }): RequestHandler {
  const rules = rulesOf(document.paths);
  return (req, res, next) => {
    const rule = rules.find((r) => r.pattern.test(req.path));
    if (!rule) return next();
    res.setHeader("Allow", rule.allow);
    res.status(405).json({ error: { code: "method_not_allowed", message: `${req.method} is not allowed here; allowed: ${rule.allow}` } });
  };
}
