// The operation worker as a child process of the service: the engine's
// in-process work (inline programs, event parsing) then never delays an HTTP
// request. It reports operations over IPC for the service's metrics, and is
// restarted if it dies (its operations are recovered through their leases).
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Logger } from "pino";
import type { Operation } from "../prisma/generated/client.js";
import type { RunResult } from "./operation-runner.js";
import type { OperationObserver } from "./operation-worker.js";

export type WorkerMessage =
  { type: "started"; operation: Operation } | { type: "finished"; operation: Operation; result: RunResult; seconds: number };

// Compiled (npm start, tools/bootstrap/compile.ts) the worker runs as plain
// JavaScript too; from the sources (tests) through tsx.
const compiled = import.meta.filename.endsWith(".js");
const entry = path.join(import.meta.dirname, compiled ? "worker-main.js" : "worker-main.ts");
const execArgv = compiled ? [] : ["--import", "tsx"];

export class WorkerProcess {
  private child?: ChildProcess;
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly observer: OperationObserver,
    /** The worker's environment, where it reads its configuration (this process's by default; tests pass their own). */
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The running worker's process id (tests kill it to see it restarted). */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  start(): void {
    // "advanced" serialization keeps the operations' bigint and Date fields.
    const child = fork(entry, [], { execArgv, serialization: "advanced", stdio: "inherit", env: this.env });
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "started") this.observer.started(message.operation);
      else this.observer.finished(message.operation, message.result, message.seconds);
    });
    child.on("exit", (code, signal) => {
      if (this.stopping) return;
      this.logger.error({ code, signal }, "the operation worker process exited; restarting it");
      setTimeout(() => this.start(), 1000).unref();
    });
    this.child = child;
  }

  /** SIGTERM: the worker stops claiming and lets running operations finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
