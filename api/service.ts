// The whole service from its configuration: database, engines, queue worker,
// HTTP application. main.ts listens; tests start it in-process.
import crypto from "node:crypto";
import os from "node:os";
import type { Express } from "express";
import type { Logger } from "pino";
import { EventLog } from "../automation/event-log.js";
import { OperationQueue } from "../automation/operation-queue.js";
import { OperationRunner } from "../automation/operation-runner.js";
import { OperationWorker } from "../automation/operation-worker.js";
import { PortAllocator } from "../automation/port-allocator.js";
import { dockerCheck, pulumiCheck } from "../automation/readiness.js";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { CredentialsCipher } from "./credentials-cipher.js";
import { createDatabase, type Database } from "./db.js";
import { EventNotifications } from "./event-stream.js";
import { HealthMonitor } from "./health-monitor.js";
import { databaseCheck } from "./health.routes.js";
import { Metrics } from "./metrics.js";
import { ResourceService } from "./resources.service.js";

export interface Service {
  app: Express;
  db: Database;
  worker: OperationWorker;
  health: HealthMonitor;
  /** Stops the health monitor and the worker (waiting for running operations), then the connections. */
  close(): Promise<void>;
}

export async function createService(config: Config, logger: Logger, { runWorker = true } = {}): Promise<Service> {
  const db = createDatabase(config.databaseUrl);
  const cipher = new CredentialsCipher(config.keyring);
  const metrics = new Metrics(db);
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
  const queue = new OperationQueue(db, owner, config.operations.leaseSeconds);
  const events = new EventLog(db);
  const runner = new OperationRunner({
    db,
    events,
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
    },
    backendUrl: config.pulumiBackendUrl,
    passphrase: config.passphrase,
  });
  const worker = new OperationWorker(queue, runner, logger, config.operations, metrics);
  const notifications = new EventNotifications(config.databaseUrl, logger);
  await notifications.start().catch((error: unknown) => logger.warn({ err: error }, "event notifications unavailable; streams poll instead"));
  const resources = new ResourceService(db, cipher, config.images, worker);
  const app = createApp({
    db,
    logger,
    resources,
    notifications,
    metrics,
    readiness: { database: databaseCheck(db), docker: dockerCheck(), pulumi: pulumiCheck() },
    scrapeToken: config.scrapeToken,
  });
  const health = new HealthMonitor({ db, events, cipher, metrics, logger, settings: config.healthChecks });
  if (runWorker) {
    worker.start();
    health.start();
  }
  return {
    app,
    db,
    worker,
    health,
    async close() {
      await health.stop();
      await worker.stop();
      await notifications.stop();
      await db.$disconnect();
    },
  };
}
