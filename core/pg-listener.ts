// Postgres LISTEN, fanned out in-process by payload: how SSE streams learn of
// new events and workers of new or cancelled operations, whichever process
// or service instance wrote them. One connection per channel and process.
import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "./db.js";

export class PgListener {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  /** Listeners of every notification (a team-wide event stream filters by itself). */
  private readonly everything = new Set<(payload: string) => void>();
  private client?: pg.Client;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", (message) => {
      if (!message.payload) return;
      this.emitter.emit(message.payload);
      for (const listener of this.everything) listener(message.payload);
    });
    client.on("error", (error) => {
      this.logger.warn({ err: error, channel: this.channel }, "LISTEN connection lost; reconnecting");
      this.client = undefined;
      setTimeout(() => void this.restart(), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.client = client;
  }

  /** Calls `listener` for each notification whose payload is `payload`. */
  subscribe(payload: string, listener: () => void): () => void {
    this.emitter.on(payload, listener);
    return () => this.emitter.off(payload, listener);
  }

  /** Calls `listener` for every notification, with its payload. */
  subscribeAll(listener: (payload: string) => void): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    await this.start().catch(() => setTimeout(() => void this.restart(), 1000).unref());
  }
}

/** Workers listen here: "work" when an operation is queued, "cancel" when one should stop. */
export const queueChannel = "provisioner_queue";

export async function signalWorkers(db: Database, signal: "work" | "cancel"): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${queueChannel}, ${signal})`;
}
