// /v1/webhooks (issue 12, notifications): thin routes — validate, call the service, answer.
import { Router, type Request, type Response } from "express";
import { ApiError } from "./errors.js";
import { body } from "./resources.schemas.js";
import type { Actor } from "./resources.service.js";
import { validate } from "./validate.js";
import * as schemas from "./webhooks.schemas.js";
import type { WebhookService } from "./webhooks.service.js";

const actorOf = (res: Response): Actor => res.locals.actor as Actor;

/** A malformed id is as unknown as a missing one. */
function webhookIdOr404(req: Request): string {
  const parsed = schemas.webhookId.safeParse(req.params.id);
  if (!parsed.success) throw new ApiError(404, "not_found", "no such webhook in the team");
  return parsed.data;
}

export function webhookRoutes(webhooks: WebhookService): Router {
  const router = Router();

  router.post("/v1/webhooks", async (req, res) => {
    const request = validate(schemas.createWebhookBody, req.body, "body");
    const created = await webhooks.create(actorOf(res), request);
    // The secret is in this answer only.
    res.setHeader("Cache-Control", "no-store");
    res.status(201).location(`/v1/webhooks/${created.id}`).json(body(schemas.createdWebhookView, created));
  });

  router.get("/v1/webhooks", async (_req, res) => {
    res.json(body(schemas.webhooksView, { webhooks: await webhooks.list(actorOf(res)) }));
  });

  router.get("/v1/webhooks/:id", async (req, res) => {
    res.json(body(schemas.webhookView, await webhooks.get(actorOf(res), webhookIdOr404(req))));
  });

  router.delete("/v1/webhooks/:id", async (req, res) => {
    await webhooks.remove(actorOf(res), webhookIdOr404(req));
    res.status(204).end();
  });

  router.get("/v1/webhooks/:id/deliveries", async (req, res) => {
    const id = webhookIdOr404(req);
    const query = validate(schemas.deliveriesQuery, req.query, "query");
    res.json(body(schemas.deliveriesPage, await webhooks.deliveries(actorOf(res), id, query)));
  });

  return router;
}
