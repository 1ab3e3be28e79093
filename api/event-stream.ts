// Wakes SSE streams when events are written, by any service instance:
// one LISTEN connection per instance, fanned out in-process by resource id.
import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "pino";
import { eventChannel } from "../automation/event-log.js";

export class EventNotifications {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private client?: pg.Client;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", (message) => {
      if (message.payload) this.emitter.emit(message.payload);
    });
    client.on("error", (error) => {
      this.logger.warn({ err: error }, "event notifications: connection lost; reconnecting");
      this.client = undefined;
      setTimeout(() => void this.restart(), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${eventChannel}`);
    this.client = client;
  }

  subscribe(resourceId: string, listener: () => void): () => void {
    this.emitter.on(resourceId, listener);
    return () => this.emitter.off(resourceId, listener);
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
