// Calling the service the way users do: HTTP with an API key, SSE for progress.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { Database } from "../core/db.js";

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export function client(base: string, apiKey?: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(apiKey && { authorization: `Bearer ${apiKey}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: response.headers };
  };
  return {
    get: (path: string) => call("GET", path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call("POST", path, body, headers),
    patch: (path: string, body: unknown) => call("PATCH", path, body),
    delete: (path: string) => call("DELETE", path),
    raw: call,
  };
}

export type Client = ReturnType<typeof client>;

/** Polls GET /v1/resources/:id until its status is one of `statuses`. */
export async function waitForStatus(api: Client, id: string, statuses: string[], timeoutMs = 240_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api.get(`/v1/resources/${id}`);
    if (statuses.includes(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`resource ${id} still ${body.status} (${body.lastError ?? "no error"}) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Polls the resource's operations until `operationId` has finished; returns it. */
export async function waitForOperation(api: Client, id: string, operationId: string, timeoutMs = 240_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { operations } = (await api.get(`/v1/resources/${id}/operations`)).body;
    const operation = operations.find((o: { id: string }) => o.id === operationId);
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(operation?.status)) return operation;
    if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${operation?.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Reads the SSE stream until `until` says stop; returns the messages read. */
export async function readEvents(
  base: string,
  apiKey: string,
  id: string,
  until: (message: EventSourceMessage) => boolean,
  { lastEventId, timeoutMs = 240_000 }: { lastEventId?: string; timeoutMs?: number } = {},
): Promise<EventSourceMessage[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const messages: EventSourceMessage[] = [];
  let done = false;
  const parser = createParser({
    onEvent(message) {
      if (done) return;
      messages.push(message);
      if (until(message)) done = true;
    },
  });
  try {
    const response = await fetch(`${base}/v1/resources/${id}/events`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream", ...(lastEventId && { "last-event-id": lastEventId }) },
      signal: controller.signal,
    });
    if (response.headers.get("content-type") !== "text/event-stream") throw new Error(`not an event stream: ${response.status}`);
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      if (done) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return messages;
}

/**
 * When this test run began: vitest.config.ts sets it once for every test file;
 * outside vitest (bench/) it is this process's start.
 */
export function testRunStartedAt(): Date {
  const set = process.env.PROVISIONER_TEST_RUN_STARTED;
  return set ? new Date(set) : new Date(Date.now() - process.uptime() * 1000);
}

/**
 * Operations an interrupted earlier run left unfinished (this database
 * persists) must not run in this run's workers. Only those: queued before
 * this run began, or of the given teams (a test's own, at its end). Anything
 * else unfinished (another process using this database) is left alone.
 */
export async function discardUnfinishedOperations(db: Database, { teamIds }: { teamIds?: string[] } = {}): Promise<void> {
  const mine = teamIds ? { resource: { teamId: { in: teamIds } } } : { createdAt: { lt: testRunStartedAt() } };
  await db.operation.updateMany({
    where: { status: { in: ["QUEUED", "RUNNING"] }, ...mine },
    data: { status: "CANCELLED", finishedAt: new Date(), error: "discarded by the test suite" },
  });
}
