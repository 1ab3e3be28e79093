// The automation as the API sees it: queueing operations, naming stacks, the
// worker's process (or, for tests, the worker in this process), the checks
// /readyz runs, the scratch restores the restore verification runs, a Kubernetes database's backup store and Jobs. Nothing here loads the runner, the components or @pulumi/*:
// the in-process worker is imported only when asked for.
import type { Logger } from "pino";
import type { Config } from "../core/config.js";
import type { Database } from "../core/db.js";
import type { OperationObserver } from "./operation-worker.js";
import type { WorkerHandle } from "./worker.js";

export { OperationQueue } from "./operation-queue.js";
export { pulumiProject, stackName } from "./stack-names.js";
export { WorkerProcess } from "./worker-process.js";
export { dockerIsolationProblem } from "./docker-isolation.js";
export { dockerCheck, pulumiCheck } from "./readiness.js";
export { runRestoreCheck, type RestoreCheck, type RestoreCheckResult } from "./restore-check.js";
export { copyBackupStore, runBackupJob } from "./kubernetes-backups.js";
export type { OperationObserver, OperationWorker } from "./operation-worker.js";
export type { RunResult } from "./run-scope.js";
export type { WorkerHandle } from "./worker.js";

/** The worker in this process (tests): loads the runner and the engine's SDK on first use. */
export async function startInProcessWorker(
  config: Config,
  db: Database,
  logger: Logger,
  observer?: OperationObserver,
): Promise<WorkerHandle> {
  const { createWorker } = await import("./worker.js");
  return createWorker(config, db, logger, observer);
}
