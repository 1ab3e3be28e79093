// The operation worker's composition root: the queue, the runner and its
// engine, the NOTIFY listener. Its process entry is worker-main.ts; tests run
// it in the API's process (see the automation interface, index.ts).
import crypto from "node:crypto";
import os from "node:os";
import type { Logger } from "pino";
import type { Config } from "../core/config.js";
import { CredentialsCipher } from "../core/credentials-cipher.js";
import type { Database } from "../core/db.js";
import { EventLog } from "../core/event-log.js";
import { settleReservation } from "../core/footprint.js";
import { PgListener, queueChannel } from "../core/pg-listener.js";
import { describeBackend, ensureStateDatabase } from "../core/pulumi-backend.js";
import type { Operation } from "../prisma/generated/client.js";
import { OperationQueue } from "./operation-queue.js";
import { OperationRunner } from "./operation-runner.js";
import { OperationWorker, type OperationObserver } from "./operation-worker.js";
import { PortAllocator } from "./port-allocator.js";
import { dockerHostCpus, dockerHostOpenFiles } from "./docker-host-limits.js";
import { lowPriorityPulumi } from "./pulumi-command.js";
import { ensureLocalBackend } from "./workspace.js";

export interface WorkerHandle {
  worker: OperationWorker;
  stop(): Promise<void>;
}

/** The operation worker and what it needs; woken through Postgres NOTIFY by any API instance. */
export async function createWorker(config: Config, db: Database, logger: Logger, observer?: OperationObserver): Promise<WorkerHandle> {
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
  try {
    ensureLocalBackend(config.pulumiBackendUrl);
    const { created } = await ensureStateDatabase(config.pulumiBackend);
    if (created) logger.info({ backend: describeBackend(config.pulumiBackend) }, "created the Pulumi state database");
  } catch (error) {
    // pg's errors name the server and the user, never the password.
    logger.error(
      { err: error, backend: describeBackend(config.pulumiBackend) },
      "the Pulumi backend cannot be prepared: operations will fail until it can",
    );
  }
  const queue = new OperationQueue(db, owner, config.operations.leaseSeconds, {
    instanceId: config.instanceId,
    dockerHostId: config.dockerHostId,
  });
  const events = new EventLog(db);
  const runner = new OperationRunner({
    db,
    events,
    cipher: new CredentialsCipher(config.keyring),
    // The service deploys on the Docker host it runs on; ports are allocated per host.
    ports: new PortAllocator(db, config.dockerHostId),
    logger,
    host: {
      projectsDir: config.projectsDir,
      backupsDir: config.backupsDir,
      volumeMbPerGb: config.volumeMbPerGb,
      publishIp: config.publishIp,
      publicHost: config.publicHost,
      images: config.images,
      healthTimeoutSeconds: config.operations.healthTimeoutSeconds,
      cloud: config.cloud,
      cpus: await dockerHostCpus(),
      openFiles: await dockerHostOpenFiles(config.images.pgbouncer),
    },
    backendUrl: config.pulumiBackendUrl,
    backendEnv: config.pulumiBackend.env,
    passphrase: config.passphrase,
    // Without a CLI the worker still starts; /readyz says what is missing.
    pulumiCommand: await lowPriorityPulumi().catch(
      (error: unknown) => void logger.warn({ err: error }, "no pulumi CLI: operations will fail until one is on PATH"),
    ),
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
