// GET /v1/events: every event of the team's resources, JSON or one
// Server-Sent Events stream (issue 14): the console's resource list updates
// live without a stream per resource. It shares the team's stream slots
// (EVENT_STREAMS_PER_TEAM) with the per-resource streams.
import { Router, type Request, type Response } from "express";
import type { Database } from "../core/db.js";
import type { PgListener } from "../core/pg-listener.js";
import type { Event } from "../prisma/generated/client.js";
import { ApiError, tooManyRequests } from "./errors.js";
import type { Actor } from "./resources.service.js";
import { body, eventId } from "./resources.schemas.js";
import type { StreamSlots } from "./stream-slots.js";
import * as schemas from "./teams.schemas.js";
import { validate } from "./validate.js";

const pageSize = 100;
const keepAliveMs = 15_000;
/** NOTIFY wakes the stream; this catches anything missed while the listener reconnects. */
const safetyPollMs = 5_000;

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

function lastEventId(req: Request): bigint | undefined {
  const header = req.header("last-event-id");
  if (header === undefined) return undefined;
  const parsed = eventId.safeParse(header);
  if (!parsed.success)
    throw new ApiError(400, "invalid_request", `invalid header: Last-Event-ID ${parsed.error.issues[0]!.message}`, [
      { field: "Last-Event-ID", message: parsed.error.issues[0]!.message },
    ]);
  return BigInt(parsed.data);
}

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
    let cursor = resumed ?? (await db.event.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    const release = streams.take(team.id);
    if (!release) {
      throw tooManyRequests(
        "too_many_streams",
        `the team already has ${streams.limit} open event streams; close one or poll GET /v1/events`,
        5,
      );
    }
    res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    // Notifications name a resource: only the team's wake this stream (others' are remembered as not ours).
    const ours = new Map<string, boolean>();
    let sending = false;
    let again = false;
    const send = async () => {
      if (sending) {
        again = true;
        return;
      }
      sending = true;
      try {
        do {
          again = false;
          const events = await eventsAfter(db, team.id, cursor);
          for (const event of events) {
            res.write(`id: ${event.id}\nevent: ${event.stage}\ndata: ${JSON.stringify(view(event))}\n\n`);
            cursor = event.id;
          }
          if (events.length === pageSize) again = true;
        } while (again);
      } catch {
        res.end();
      } finally {
        sending = false;
      }
    };
    const onNotification = async (resourceId: string) => {
      let mine = ours.get(resourceId);
      if (mine === undefined) {
        mine = (await db.resource.count({ where: { id: resourceId, teamId: team.id } }).catch(() => 1)) > 0;
        if (ours.size > 10_000) ours.clear();
        ours.set(resourceId, mine);
      }
      if (mine) await send();
    };
    const unsubscribe = notifications.subscribeAll((payload) => void onNotification(payload));
    const poll = setInterval(() => void send(), safetyPollMs);
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs);
    req.on("close", () => {
      release();
      unsubscribe();
      clearInterval(poll);
      clearInterval(keepAlive);
    });
    await send();
  });
  return router;
}
