// /v1/team: the caller's team as the console's team page shows it (issue 14):
// quota usage, API keys (created and revoked here), the audit log.
import { Router, type Request, type Response } from "express";
import type { Database } from "../core/db.js";
import type { ApiKey } from "../prisma/generated/client.js";
import { ApiError } from "./errors.js";
import { quotaUsage } from "./quotas.js";
import type { Actor } from "./resources.service.js";
import { body } from "./resources.schemas.js";
import * as schemas from "./teams.schemas.js";
import type { TeamService } from "./teams.service.js";
import { validate } from "./validate.js";

const actorOf = (res: Response): Actor => res.locals.actor as Actor;

const keyView = (key: ApiKey, actor: Actor) =>
  body(schemas.apiKeyView, {
    id: key.id,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
    current: key.id === actor.apiKeyId,
  });

/** A malformed key id is as unknown as a missing one. */
function keyIdOr404(req: Request): string {
  const parsed = schemas.apiKeyId.safeParse(req.params.id);
  if (!parsed.success) throw new ApiError(404, "not_found", "no such API key in the team");
  return parsed.data;
}

export function teamRoutes(db: Database, teams: TeamService): Router {
  const router = Router();

  router.get("/v1/team", async (_req, res) => {
    const { team } = actorOf(res);
    res.json(body(schemas.teamDetailView, { id: team.id, name: team.name, tier: team.tier, quota: await quotaUsage(db, team) }));
  });

  router.get("/v1/team/api-keys", async (_req, res) => {
    const actor = actorOf(res);
    const keys = await teams.listKeys(actor.team.id);
    res.json(body(schemas.apiKeysView, { apiKeys: keys.map((k) => keyView(k, actor)) }));
  });

  router.post("/v1/team/api-keys", async (_req, res) => {
    const actor = actorOf(res);
    const { key, apiKey } = await teams.createKey(actor.team.id);
    await db.auditLog.create({
      data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, action: "api_key.create", detail: { keyId: key.id } },
    });
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(body(schemas.createdApiKeyView, { ...keyView(key, actor), apiKey }));
  });

  router.delete("/v1/team/api-keys/:id", async (req, res) => {
    const actor = actorOf(res);
    const id = keyIdOr404(req);
    // Revoking the key this request acts with would lock the caller out mid-request; another key (or session) can.
    if (id === actor.apiKeyId)
      throw new ApiError(409, "current_key", "this request acts with that key: revoke it with another key", [
        { field: "id", message: "is the key of this request" },
      ]);
    const key = await teams.revokeKey(actor.team.id, id);
    if (!key) throw new ApiError(404, "not_found", "no such API key in the team");
    await db.auditLog.create({
      data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, action: "api_key.revoke", detail: { keyId: key.id } },
    });
    res.json(keyView(key, actor));
  });

  router.get("/v1/team/audit", async (req, res) => {
    const { team } = actorOf(res);
    const query = validate(schemas.auditQuery, req.query, "query");
    const rows = await db.auditLog.findMany({
      where: { teamId: team.id, ...(query.action && { action: query.action }), ...(query.before && { id: { lt: BigInt(query.before) } }) },
      orderBy: { id: "desc" },
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const resourceIds = [...new Set(page.flatMap((r) => (r.resourceId ? [r.resourceId] : [])))];
    const keyIds = [...new Set(page.flatMap((r) => (r.apiKeyId ? [r.apiKeyId] : [])))];
    const [resources, keys] = await Promise.all([
      db.resource.findMany({ where: { id: { in: resourceIds }, teamId: team.id }, select: { id: true, name: true } }),
      db.apiKey.findMany({ where: { id: { in: keyIds }, teamId: team.id }, select: { id: true, prefix: true } }),
    ]);
    const names = new Map(resources.map((r) => [r.id, r.name]));
    const prefixes = new Map(keys.map((k) => [k.id, k.prefix]));
    res.json(
      body(schemas.auditPage, {
        entries: page.map((r) => ({
          id: r.id.toString(),
          action: r.action,
          resourceId: r.resourceId,
          resourceName: (r.resourceId && names.get(r.resourceId)) ?? null,
          apiKeyPrefix: (r.apiKeyId && prefixes.get(r.apiKeyId)) ?? null,
          createdAt: r.createdAt.toISOString(),
        })),
        nextBefore: rows.length > query.limit ? page.at(-1)!.id.toString() : null,
      }),
    );
  });

  return router;
}
