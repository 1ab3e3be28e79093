// GET /v1/events: every event of the team's resources, JSON or one
// Server-Sent Events stream (issue 14): the console's resource list updates
// live without a stream per resource. It shares the team's stream slots
// (EVENT_STREAMS_PER_TEAM) with the per-resource streams.
import { Router, type Response } from "express";
import type { Database } from "../core/db.js";
import type { PgListener } from "../core/pg-listener.js";
import type { Event } from "../prisma/generated/client.js";
import { lastEventId, streamEvents } from "./event-stream.js";
import type { Actor } from "./resources.service.js";
import { body } from "./resources.schemas.js";
import type { StreamSlots } from "./stream-slots.js";
import * as schemas from "./teams.schemas.js";
import { validate } from "./validate.js";

const pageSize = 100;

type Row = Event & { resource: { name: string; status: string } };
const view = (e: Row) =>
  body(schemas.teamEventView, {
    id: e.id.toString(),
    resourceId: e.resourceId,
    resourceName: e.resource.name,
    status: e.resource.status,
    stage: e.stage,
    progress: e.progress,
    message: e.message,
    createdAt: e.createdAt.toISOString(),
  });

const eventsAfter = (db: Database, teamId: string, after: bigint): Promise<Row[]> =>
  db.event.findMany({
    where: { id: { gt: after }, resource: { teamId } },
    include: { resource: { select: { name: true, status: true } } },
    orderBy: { id: "asc" },
    take: pageSize,
  });

export function teamEventRoutes(db: Database, notifications: PgListener, streams: StreamSlots): Router {
  const router = Router();
  router.get("/v1/events", async (req, res: Response) => {
    const { team } = res.locals.actor as Actor;
    const { after } = validate(schemas.teamEventsQuery, req.query, "query");
    if (req.accepts(["application/json", "text/event-stream"]) !== "text/event-stream") {
      const events = await eventsAfter(db, team.id, BigInt(after ?? 0));
      res.json(body(schemas.teamEventsPage, { events: events.map(view) }));
      return;
    }
    const resumed = lastEventId(req) ?? (after === undefined ? undefined : BigInt(after));
    // A new stream starts with the next event: the client has just listed the resources.
    const cursor = resumed ?? (await db.event.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    // Notifications name a resource: only the team's wake this stream (others' are remembered as not ours).
    const ours = new Map<string, boolean>();
    const isOurs = async (resourceId: string) => {
      let mine = ours.get(resourceId);
      if (mine === undefined) {
        mine = (await db.resource.count({ where: { id: resourceId, teamId: team.id } }).catch(() => 1)) > 0;
        if (ours.size > 10_000) ours.clear();
        ours.set(resourceId, mine);
      }
      return mine;
    };
    await streamEvents(req, res, {
      slots: streams,
      teamId: team.id,
      pollInstead: "GET /v1/events",
      cursor,
      feed: {
        after: (from) => eventsAfter(db, team.id, from),
        pageSize,
        view,
        subscribe: (wake) => notifications.subscribeAll((resourceId) => void isOurs(resourceId).then((mine) => mine && wake())),
      },
    });
  });
  return router;
}
