// Server-Sent Events of stored events, for both streams the API serves (a
// resource's, GET /v1/resources/:id/events, and the team's, GET /v1/events):
// one writer for the slot, the headers, the wake-ups and the clean-up.
import type { Request, Response } from "express";
import { ApiError, tooManyRequests } from "./errors.js";
import { eventId } from "./resources.schemas.js";
import type { StreamSlots } from "./stream-slots.js";

const keepAliveMs = 15_000;
/** NOTIFY wakes a stream; this catches anything missed while the listener reconnects. */
const safetyPollMs = 5_000;
const retryAfterSeconds = 5;

/** The Last-Event-ID a reconnecting EventSource sends; a malformed one is a 400 naming the header. */
export function lastEventId(req: Request): bigint | undefined {
  const header = req.header("last-event-id");
  if (header === undefined) return undefined;
  const parsed = eventId.safeParse(header);
  if (!parsed.success)
    throw new ApiError(400, "invalid_request", `invalid header: Last-Event-ID ${parsed.error.issues[0]!.message}`, [
      { field: "Last-Event-ID", message: parsed.error.issues[0]!.message },
    ]);
  return BigInt(parsed.data);
}

export interface EventFeed<E extends { id: bigint; stage: string }> {
  /** The events after a cursor, in id order, at most `pageSize` of them. */
  after(cursor: bigint): Promise<E[]>;
  pageSize: number;
  view(event: E): unknown;
  /** Calls `wake` whenever new events may exist; returns how to stop. */
  subscribe(wake: () => void): () => void;
}

/**
 * Takes one of the team's stream slots (429 when none is left; `pollInstead`
 * names the endpoint to poll), then sends every event after `cursor` and each
 * new one as it comes, until the client leaves.
 */
export async function streamEvents<E extends { id: bigint; stage: string }>(
  req: Request,
  res: Response,
  options: { slots: StreamSlots; teamId: string; pollInstead: string; cursor: bigint; feed: EventFeed<E> },
): Promise<void> {
  const { slots, feed } = options;
  let cursor = options.cursor;
  const release = slots.take(options.teamId);
  if (!release) {
    throw tooManyRequests(
      "too_many_streams",
      `the team already has ${slots.limit} open event streams; close one or poll ${options.pollInstead}`,
      retryAfterSeconds,
    );
  }
  res.writeHead(200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  // One reader at a time; a wake-up while it reads makes it read once more.
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
        const events = await feed.after(cursor);
        for (const event of events) {
          res.write(`id: ${event.id}\nevent: ${event.stage}\ndata: ${JSON.stringify(feed.view(event))}\n\n`);
          cursor = event.id;
        }
        if (events.length >= feed.pageSize) again = true;
      } while (again);
    } catch {
      res.end();
    } finally {
      sending = false;
    }
  };
  const unsubscribe = feed.subscribe(() => void send());
  const poll = setInterval(() => void send(), safetyPollMs);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs);
  req.on("close", () => {
    release();
    unsubscribe();
    clearInterval(poll);
    clearInterval(keepAlive);
  });
  await send();
}
