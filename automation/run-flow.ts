// What one run reports while it goes: the deployment flow's stages (an Event
// row and the resource's stage/progress) and the engine's last lines.
import type { Logger } from "pino";
import type { Database } from "../core/db.js";
import { stages, type EventLog, type Stage } from "../core/event-log.js";
import type { Redactor } from "./redact.js";

export class Flow {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { db: Database; events: EventLog },
    private readonly resourceId: string,
    private readonly operationId: string,
  ) {}

  /** `progress` defaults to where the stage starts; "failed" and "cancelled" leave it as it was. */
  async stage(
    stage: Stage,
    message: string,
    progress: number | undefined = stages[stage as keyof typeof stages],
    detail?: Record<string, unknown>,
  ) {
    await this.settled();
    await this.record(stage, message, progress, detail);
  }

  /** From a synchronous engine callback: queued, in order. */
  later(stage: Stage, message: string, progress: number, detail?: Record<string, unknown>) {
    this.chain = this.chain.then(() => this.record(stage, message, progress, detail)).catch(() => undefined);
  }

  private async record(stage: Stage, message: string, progress: number | undefined, detail?: Record<string, unknown>) {
    await this.deps.events.record({
      resourceId: this.resourceId,
      operationId: this.operationId,
      stage,
      progress: progress ?? 0,
      message,
      detail,
    });
    if (progress !== undefined)
      await this.deps.db.resource.update({ where: { id: this.resourceId }, data: { stage, progress: Math.round(progress) } });
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

/** The engine's last lines, redacted: logged at debug, quoted in errors. */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly log: Logger,
    private readonly redactor: Redactor,
  ) {}

  add = (chunk: string) => {
    for (const line of chunk.split("\n")) {
      if (!line.trim()) continue;
      const clean = this.redactor.redact(line);
      this.log.debug({ engine: clean });
      this.lines.push(clean);
      if (this.lines.length > 40) this.lines.shift();
    }
  };

  errorLines(): string[] {
    return this.lines.filter((l) => /error|failed|unhealthy/i.test(l)).slice(-8);
  }
}
