// The whole service from its configuration: database, engines, queue worker,
// HTTP application. main.ts listens; tests start it in-process.
import crypto from "node:crypto";
import os from "node:os";
import type { Express } from "express";
import type { Logger } from "pino";
import { unavailableTarget } from "../automation/cloud-settings.js";
import { EventLog } from "../automation/event-log.js";
import { OperationQueue } from "../automation/operation-queue.js";
import { OperationRunner } from "../automation/operation-runner.js";
import { OperationWorker } from "../automation/operation-worker.js";
import { PortAllocator } from "../automation/port-allocator.js";
import { lowPriorityPulumi } from "../automation/pulumi-command.js";
import { dockerCheck, pulumiCheck } from "../automation/readiness.js";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { CredentialsCipher } from "./credentials-cipher.js";
import { createDatabase, type Database } from "./db.js";
import { EventNotifications } from "./event-stream.js";
import { databaseCheck } from "./health.routes.js";
import { Metrics } from "./metrics.js";
import { targets } from "./resources.schemas.js";
import { ResourceService } from "./resources.service.js";

export interface Service {
  app: Express;
  db: Database;
  worker: OperationWorker;
  /** Stops the worker (waiting for running operations), then the connections. */
  close(): Promise<void>;
}

export async function createService(config: Config, logger: Logger, { runWorker = true } = {}): Promise<Service> {
  const db = createDatabase(config.databaseUrl);
  const cipher = new CredentialsCipher(config.keyring);
  const metrics = new Metrics(db);
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
  const queue = new OperationQueue(db, owner, config.operations.leaseSeconds);
  const runner = new OperationRunner({
    db,
    events: new EventLog(db),
    cipher,
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
    // Without a CLI the service still starts; /readyz says what is missing.
    pulumiCommand: await lowPriorityPulumi().catch((error: unknown) => void logger.warn({ err: error }, "no pulumi CLI: operations will fail until one is on PATH")),
  });
  const worker = new OperationWorker(queue, runner, logger, config.operations, metrics);
  const notifications = new EventNotifications(config.databaseUrl, logger);
  await notifications.start().catch((error: unknown) => logger.warn({ err: error }, "event notifications unavailable; streams poll instead"));
  const resources = new ResourceService(db, cipher, config.images, config.cloud, worker);
  const app = createApp({
    db,
    logger,
    resources,
    notifications,
    metrics,
    readiness: { database: databaseCheck(db), docker: dockerCheck(), pulumi: pulumiCheck() },
    targets: targets.filter((target) => !unavailableTarget(target, config.cloud)),
  });
  if (runWorker) worker.start();
  return {
    app,
    db,
    worker,
    async close() {
      await worker.stop();
      await notifications.stop();
      await db.$disconnect();
    },
  };
}
