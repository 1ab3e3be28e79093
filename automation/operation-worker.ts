// Takes operations off the queue and runs them: up to `concurrency` at once,
// renewing their leases, honouring cancel requests (graceful, then forced),
// and recovering operations whose worker died.
import type { Logger } from "pino";
import type { Operation } from "../prisma/generated/client.js";
import type { OperationQueue } from "./operation-queue.js";
import type { OperationRunner, RunResult } from "./operation-runner.js";
import { killOperation } from "./process-killer.js";

export interface WorkerOptions {
  concurrency: number;
  leaseSeconds: number;
  cancelTimeoutSeconds: number;
  /** How often to look for work when nothing wakes the worker. */
  pollMs?: number;
  /** An operation interrupted this many times is failed instead of resumed. */
  maxAttempts?: number;
}

export interface OperationObserver {
  started(operation: Operation): void;
  finished(operation: Operation, result: RunResult, seconds: number): void;
}

interface Running {
  operation: Operation;
  controller: AbortController;
  done: Promise<void>;
  forceTimer?: NodeJS.Timeout;
}

export class OperationWorker {
  private readonly running = new Map<string, Running>();
  private timers: NodeJS.Timeout[] = [];
  private ticking?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly queue: OperationQueue,
    private readonly runner: OperationRunner,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
    private readonly observer?: OperationObserver,
  ) {}

  get inFlight(): number {
    return this.running.size;
  }

  start(): void {
    this.stopped = false;
    const pollMs = this.options.pollMs ?? 500;
    this.timers = [
      setInterval(() => this.wake(), pollMs),
      setInterval(() => void this.heartbeat(), (this.options.leaseSeconds * 1000) / 3),
    ];
    this.wake();
  }

  /** Looks for work now (e.g. right after a request queued some). */
  wake(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.tick()
      .catch((error: unknown) => this.logger.error({ err: error }, "operation worker: claiming failed"))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  /** Stops taking work and waits for what runs to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    await this.ticking; // a claim in progress launches before we wait for what runs
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async tick(): Promise<void> {
    for (const operation of await this.queue.reclaimExpired()) {
      this.logger.warn({ operationId: operation.id, attempts: operation.attempts }, "recovering an operation whose worker stopped");
      this.launch(operation, true);
    }
    while (!this.stopped && this.running.size < this.options.concurrency) {
      const operation = await this.queue.claim(this.options.concurrency);
      if (!operation) return;
      this.launch(operation, false);
    }
  }

  private launch(operation: Operation, recovering: boolean): void {
    const controller = new AbortController();
    const started = performance.now();
    this.observer?.started(operation);
    const entry: Running = { operation, controller, done: Promise.resolve() };
    entry.done = this.execute(operation, controller.signal, recovering)
      .catch((error: unknown): RunResult => {
        this.logger.error({ err: error, operationId: operation.id }, "operation crashed");
        return { status: "FAILED", error: "internal error while running the operation" };
      })
      .then(async (result) => {
        clearTimeout(entry.forceTimer);
        await this.queue.finish(operation.id, result.status, result.error);
        this.observer?.finished(operation, result, (performance.now() - started) / 1000);
      })
      .catch((error: unknown) => this.logger.error({ err: error, operationId: operation.id }, "recording an operation's end failed"))
      .finally(() => {
        this.running.delete(operation.id);
        this.wake();
      });
    this.running.set(operation.id, entry);
  }

  private async execute(operation: Operation, signal: AbortSignal, recovering: boolean): Promise<RunResult> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    if (recovering && operation.attempts > maxAttempts) {
      return this.runner.abandon(operation, `interrupted ${operation.attempts - 1} times; not resumed again`);
    }
    return this.runner.run(operation, { signal, recovering });
  }

  /** Renews leases and acts on cancel requests; the API calls it to react at once. */
  async heartbeat(): Promise<void> {
    try {
      const cancelled = await this.queue.heartbeat([...this.running.keys()]);
      for (const id of cancelled) this.cancel(id);
    } catch (error) {
      this.logger.error({ err: error }, "operation worker: heartbeat failed");
    }
  }

  /** A graceful cancel first (SIGINT: the engine finishes its running steps), then a forced stop. */
  private cancel(id: string): void {
    const entry = this.running.get(id);
    if (!entry || entry.controller.signal.aborted) return;
    this.logger.info({ operationId: id }, "cancelling an operation");
    entry.controller.abort();
    entry.forceTimer = setTimeout(() => {
      const killed = killOperation(id);
      this.logger.warn({ operationId: id, killed }, "cancel timeout: engine processes killed");
    }, this.options.cancelTimeoutSeconds * 1000);
  }
}
