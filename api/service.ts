// The whole service from its configuration: database, HTTP application, and
// the operation worker (a process of its own, or in-process for tests).
// main.ts listens; tests start it in-process.
import crypto from "node:crypto";
import os from "node:os";
import type { Express } from "express";
import type { Logger } from "pino";
import { unavailableTarget } from "../automation/cloud-settings.js";
import { EventLog, eventChannel } from "../automation/event-log.js";
import { OperationQueue } from "../automation/operation-queue.js";
import { OperationRunner } from "../automation/operation-runner.js";
import { OperationWorker, type OperationObserver } from "../automation/operation-worker.js";
import { PgListener, queueChannel } from "../automation/pg-listener.js";
import { WorkerProcess } from "../automation/worker-process.js";
import { PortAllocator } from "../automation/port-allocator.js";
import { dockerIsolationProblem } from "../automation/docker-isolation.js";
import { lowPriorityPulumi } from "../automation/pulumi-command.js";
import { ensureLocalBackend } from "../automation/workspace.js";
import { dockerCheck, pulumiCheck } from "../automation/readiness.js";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { CredentialsCipher } from "./credentials-cipher.js";
import { createDatabase, type Database } from "./db.js";
import { HealthMonitor } from "./health-monitor.js";
import { databaseCheck } from "./health.routes.js";
import { Metrics } from "./metrics.js";
import { settleReservation } from "./quotas.js";
import type { Operation } from "../prisma/generated/client.js";
import { targets } from "./resources.schemas.js";
import { ResourceService } from "./resources.service.js";

export interface Service {
  app: Express;
  db: Database;
  /** The in-process worker (tests); undefined when operations run in a worker process. */
  worker?: OperationWorker;
  /** Checks ACTIVE resources; in the API process, whose metrics it counts in. */
  health: HealthMonitor;
  /** Stops the health monitor and the worker (waiting for running operations), then the connections. */
  close(): Promise<void>;
}

/**
 * Where operations run: in a worker process beside the API (the default:
 * engine work never delays a request), in this process, or nowhere.
 */
export type WorkerMode = "process" | "in-process" | "none";

/** The operation worker and what it needs; woken through Postgres NOTIFY by any API instance. */
export async function createWorker(config: Config, db: Database, logger: Logger, observer?: OperationObserver): Promise<{ worker: OperationWorker; stop(): Promise<void> }> {
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
  try {
    ensureLocalBackend(config.pulumiBackendUrl);
  } catch (error) {
    logger.error({ err: error }, "the Pulumi backend directory cannot be created: operations will fail until it can");
  }
  const queue = new OperationQueue(db, owner, config.operations.leaseSeconds);
  const events = new EventLog(db);
  const runner = new OperationRunner({
    db,
    events,
    cipher: new CredentialsCipher(config.keyring),
    // The service deploys on the Docker host it runs on.
    ports: new PortAllocator(db, "local"),
    logger,
    host: {
      projectsDir: config.projectsDir,
      publishIp: config.publishIp,
      publicHost: config.publicHost,
      images: config.images,
      healthTimeoutSeconds: config.operations.healthTimeoutSeconds,
      cloud: config.cloud,
    },
    backendUrl: config.pulumiBackendUrl,
    passphrase: config.passphrase,
    // Without a CLI the worker still starts; /readyz says what is missing.
    pulumiCommand: await lowPriorityPulumi().catch((error: unknown) => void logger.warn({ err: error }, "no pulumi CLI: operations will fail until one is on PATH")),
  });
  // An UPDATE's quota reservation becomes what runs once it ended, whatever the result.
  const settle = async (operation: Operation) => {
    if (operation.kind === "UPDATE") await settleReservation(db, config.images, operation.resourceId, operation.id);
  };
  const worker = new OperationWorker(queue, runner, logger, config.operations, observer, settle);
  const signals = new PgListener(config.databaseUrl, queueChannel, logger);
  await signals.start().catch((error: unknown) => logger.warn({ err: error }, "queue notifications unavailable; the worker polls"));
  signals.subscribe("work", () => worker.wake());
  signals.subscribe("cancel", () => void worker.heartbeat());
  return {
    worker,
    async stop() {
      await worker.stop();
      await signals.stop();
    },
  };
}

export async function createService(config: Config, logger: Logger, { worker: mode = "in-process", runWorker = true }: { worker?: WorkerMode; runWorker?: boolean } = {}): Promise<Service> {
  const db = createDatabase(config.databaseUrl);
  const metrics = new Metrics(db);
  const notifications = new PgListener(config.databaseUrl, eventChannel, logger);
  await notifications.start().catch((error: unknown) => logger.warn({ err: error }, "event notifications unavailable; streams poll instead"));
  const cipher = new CredentialsCipher(config.keyring);
  const isolationProblem = dockerIsolationProblem();
  if (isolationProblem) logger.warn(`resources are NOT isolated from each other: ${isolationProblem}; only one team may create resources on this Docker host`);
  const resources = new ResourceService(db, cipher, config.images, config.cloud, { isolationProblem }, config.limits);
  const app = createApp({
    db,
    logger,
    resources,
    notifications,
    metrics,
    readiness: { database: databaseCheck(db), docker: dockerCheck(), pulumi: pulumiCheck() },
    warnings: isolationProblem ? { isolation: isolationProblem } : undefined,
    targets: targets.filter((target) => !unavailableTarget(target, config.cloud)),
    scrapeToken: config.scrapeToken,
    eventStreamsPerTeam: config.limits.eventStreamsPerTeam,
  });
  const health = new HealthMonitor({ db, events: new EventLog(db), cipher, metrics, logger, settings: config.healthChecks });
  let inProcess: Awaited<ReturnType<typeof createWorker>> | undefined;
  let child: WorkerProcess | undefined;
  if (mode === "in-process") {
    inProcess = await createWorker(config, db, logger, metrics);
    if (runWorker) inProcess.worker.start();
  } else if (mode === "process") {
    child = new WorkerProcess(logger, metrics);
    child.start();
  }
  if (runWorker) health.start();
  return {
    app,
    db,
    worker: inProcess?.worker,
    health,
    async close() {
      await health.stop();
      await inProcess?.stop();
      await child?.stop();
      await notifications.stop();
      await db.$disconnect();
    },
  };
}
