// Takes operations off the queue and runs them: up to `concurrency` at once,
// renewing their leases, honouring cancel requests (graceful, then forced),
// and recovering operations whose worker died.
//
// Lease fencing: two engines must never run on one stack. A worker that cannot
// renew a lease (another worker took the operation over, or the lease ran out
// unrenewed: the database did not answer) kills that run's engine at once
// and records nothing more for it. A worker recovering an operation kills what
// the interrupted run left on this machine and then waits out a whole lease
// before it touches the stack, so the old worker has fenced itself by then
// wherever it runs.
import type { Logger } from "pino";
import type { Operation } from "../prisma/generated/client.js";
import { fenceRun, LeaseLost, leaseLost, type OperationQueue } from "./operation-queue.js";
import type { OperationRunner, RunResult } from "./operation-runner.js";
import { killOperation } from "./process-killer.js";

export interface WorkerOptions {
  /** Operations running at once across all instances. */
  concurrency: number;
  /** Of those, how many this worker runs at once (default: all). */
  instanceConcurrency?: number;
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
  /** When the lease was last renewed (or taken). */
  renewedAt: number;
  /** The lease was lost: the run was stopped and its end is not recorded. */
  fenced?: boolean;
}

/** Waits out a lease; only fencing ends the wait early (a cancel must not unlock the stack sooner). */
const waitOutLease = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        if (leaseLost(signal)) {
          clearTimeout(timer);
          resolve();
        }
      },
      { once: true },
    );
  });

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
    /** After a run (not a fenced one), before its end is recorded: e.g. settling the quota of an UPDATE. */
    private readonly settle?: (operation: Operation) => Promise<void>,
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
    for (const operation of await this.queue.reclaimExpired([...this.running.keys()])) {
      this.logger.warn({ operationId: operation.id, attempts: operation.attempts }, "recovering an operation whose worker stopped");
      this.launch(operation, true);
    }
    while (!this.stopped && this.running.size < (this.options.instanceConcurrency ?? this.options.concurrency)) {
      const operation = await this.queue.claim(this.options.concurrency);
      if (!operation) return;
      this.launch(operation, false);
    }
  }

  private launch(operation: Operation, recovering: boolean): void {
    const controller = new AbortController();
    const started = performance.now();
    this.observer?.started(operation);
    const entry: Running = { operation, controller, done: Promise.resolve(), renewedAt: Date.now() };
    entry.done = this.execute(operation, controller.signal, recovering)
      .catch((error: unknown): RunResult => {
        this.logger.error({ err: error, operationId: operation.id }, "operation crashed");
        return { status: "FAILED", error: "internal error while running the operation" };
      })
      .then(async (result) => {
        clearTimeout(entry.forceTimer);
        if (!entry.fenced)
          await this.settle?.(operation).catch((error: unknown) =>
            this.logger.error({ err: error, operationId: operation.id }, "settling after a run failed"),
          );
        // A fenced run stays RUNNING with its lease: whoever holds or next takes the lease recovers it.
        if (entry.fenced || !(await this.queue.finish(operation.id, result.status, result.error))) {
          this.logger.warn({ operationId: operation.id }, "the lease was lost: the run's end is not recorded");
        }
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
    if (recovering) {
      // The interrupted run's engine may still be running here (a crashed worker's children survive it).
      const killed = killOperation(operation.id);
      if (killed) this.logger.warn({ operationId: operation.id, killed }, "recovery: killed the interrupted run's processes");
      await waitOutLease(this.options.leaseSeconds * 1000, signal);
      const lost = leaseLost(signal);
      if (lost) return { status: "FAILED", error: lost.message };
    }
    if (recovering && operation.attempts > maxAttempts) {
      return this.runner.abandon(operation, `interrupted ${operation.attempts - 1} times; not resumed again`);
    }
    return this.runner.run(operation, { signal, recovering });
  }

  /** Renews leases and acts on cancel requests; the API calls it to react at once. */
  async heartbeat(): Promise<void> {
    // A lease run out unrenewed (three renewals in a row failed or were late): another
    // worker may take it over now, and touches the stack a whole lease later. Stop
    // now. (Sooner would fence healthy runs whose event loop is merely busy.)
    const deadline = Date.now() - this.options.leaseSeconds * 1000;
    for (const [id, entry] of this.running) if (entry.renewedAt < deadline) this.fence(id, "not renewed for a whole lease");
    const ids = [...this.running].filter(([, entry]) => !entry.fenced).map(([id]) => id);
    try {
      const asked = Date.now();
      const { lost, cancelled } = await this.queue.heartbeat(ids);
      for (const id of ids) {
        const entry = this.running.get(id);
        if (entry && !lost.includes(id)) entry.renewedAt = asked;
      }
      for (const id of lost) this.fence(id, "another worker holds it");
      for (const id of cancelled) this.cancel(id);
    } catch (error) {
      this.logger.error({ err: error }, "operation worker: heartbeat failed");
    }
  }

  /** Self-fencing: the engine of a run whose lease is lost is killed at once. */
  private fence(id: string, why: string): void {
    const entry = this.running.get(id);
    if (!entry || entry.fenced) return;
    entry.fenced = true;
    clearTimeout(entry.forceTimer);
    fenceRun(entry.controller, new LeaseLost(id, why));
    const killed = killOperation(id);
    this.logger.error({ operationId: id, killed, why }, "lease lost: the run's engine was killed");
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
