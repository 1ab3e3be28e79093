// /v1/resources: thin routes — validate, call the service, answer.
import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import type { PgListener } from "../core/pg-listener.js";
import { ApiError } from "./errors.js";
import { lastEventId, streamEvents } from "./event-stream.js";
import * as schemas from "./resources.schemas.js";
import { eventView, type Actor, type ResourceService } from "./resources.service.js";
import type { StreamSlots } from "./stream-slots.js";
import { validate } from "./validate.js";

const actorOf = (res: Response): Actor => res.locals.actor as Actor;
const idOf = (req: Request) => validate(schemas.resourceId, req.params.id, "path");

/** A malformed id is as unknown as a missing one. */
function resourceIdOr404(req: Request): string {
  try {
    return idOf(req);
  } catch {
    throw new ApiError(404, "not_found", "no such resource");
  }
}

/** 202 with the resource and its operation; a replayed Idempotency-Key says so in a header. */
function sendAccepted(res: Response, { replayed, ...accepted }: z.output<typeof schemas.acceptedView> & { replayed: boolean }): void {
  if (replayed) res.setHeader("Idempotent-Replayed", "true");
  res.status(202).location(`/v1/resources/${accepted.resource.id}`).json(schemas.body(schemas.acceptedView, accepted));
}

const eventPageSize = 500;

/** `notifications`: LISTEN on the event channel, by resource id; `streams`: the per-team limit of open streams. */
export function resourceRoutes(service: ResourceService, notifications: PgListener, streams: StreamSlots): Router {
  const router = Router();

  router.post("/v1/resources", async (req, res) => {
    const body = validate(schemas.createResourceBody, req.body, "body");
    const key = req.header("idempotency-key");
    if (key !== undefined && (key.length === 0 || key.length > 255)) {
      throw new ApiError(400, "invalid_request", "Idempotency-Key must be 1 to 255 characters", [
        { field: "Idempotency-Key", message: "must be 1 to 255 characters" },
      ]);
    }
    if (key !== undefined && !schemas.idempotencyKeyPattern.test(key)) {
      throw new ApiError(400, "invalid_request", "Idempotency-Key must be visible ASCII characters", [
        { field: "Idempotency-Key", message: "must be visible ASCII characters (spaces inside only)" },
      ]);
    }
    sendAccepted(res, await service.create(actorOf(res), body, key));
  });

  router.get("/v1/resources", async (req, res) => {
    res.json(
      schemas.body(schemas.resourcePage, await service.list(actorOf(res), validate(schemas.listResourcesQuery, req.query, "query"))),
    );
  });

  router.get("/v1/resources/:id", async (req, res) => {
    res.json(schemas.body(schemas.resourceView, await service.get(actorOf(res), resourceIdOr404(req))));
  });

  router.get("/v1/resources/:id/credentials", async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json(schemas.body(schemas.credentialsView, await service.credentials(actorOf(res), resourceIdOr404(req))));
  });

  router.get("/v1/resources/:id/operations", async (req, res) => {
    res.json(schemas.body(schemas.operationsView, await service.operations(actorOf(res), resourceIdOr404(req))));
  });

  router.patch("/v1/resources/:id", async (req, res) => {
    const id = resourceIdOr404(req);
    const body = validate(schemas.updateResourceBody, req.body, "body");
    sendAccepted(res, await service.update(actorOf(res), id, body));
  });

  router.post("/v1/resources/:id/refresh", async (req, res) => {
    sendAccepted(res, await service.refresh(actorOf(res), resourceIdOr404(req)));
  });

  router.post("/v1/resources/:id/cancel", async (req, res) => {
    res.status(202).json(schemas.body(schemas.cancelView, await service.cancel(actorOf(res), resourceIdOr404(req))));
  });

  router.delete("/v1/resources/:id", async (req, res) => {
    sendAccepted(res, await service.remove(actorOf(res), resourceIdOr404(req)));
  });

  router.get("/v1/resources/:id/events", async (req, res) => {
    const id = resourceIdOr404(req);
    const { after } = validate(schemas.eventsQuery, req.query, "query");
    const actor = actorOf(res);
    if (req.accepts(["application/json", "text/event-stream"]) !== "text/event-stream") {
      const events = await service.events(actor, id, BigInt(after ?? 0));
      res.json(schemas.body(schemas.eventsPage, { events: events.map(eventView) }));
      return;
    }
    // Last-Event-ID (a reconnecting EventSource) wins over ?after=.
    const cursor = lastEventId(req) ?? BigInt(after ?? 0);
    await service.find(actor, id); // 404 before the stream starts
    if (!(await service.eventIdIssued(cursor))) {
      const field = req.header("last-event-id") === undefined ? "query.after" : "Last-Event-ID";
      throw new ApiError(400, "invalid_request", `invalid ${field}: no event has that id yet`, [
        { field, message: "is beyond the last event" },
      ]);
    }
    await streamEvents(req, res, {
      slots: streams,
      teamId: actor.team.id,
      pollInstead: "GET /v1/resources/{id}/events",
      cursor,
      feed: {
        after: (from) => service.events(actor, id, from, eventPageSize),
        pageSize: eventPageSize,
        view: eventView,
        subscribe: (wake) => notifications.subscribe(id, wake),
      },
    });
  });

  return router;
}
