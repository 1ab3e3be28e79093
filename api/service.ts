// The whole service from its configuration: database, HTTP application, and
// the operation worker (a process of its own, or in-process for tests; its
// wiring is automation/worker.ts).
// main.ts listens; tests start it in-process.
import type { Express } from "express";
import type { Logger } from "pino";
import {
  dockerCheck,
  dockerIsolationProblem,
  pulumiCheck,
  startInProcessWorker,
  WorkerProcess,
  type OperationWorker,
  type WorkerHandle,
} from "../automation/index.js";
import { unavailableTarget } from "../core/cloud-settings.js";
import type { Config } from "../core/config.js";
import { CredentialsCipher } from "../core/credentials-cipher.js";
import { createDatabase, type Database } from "../core/db.js";
import { EventLog, eventChannel } from "../core/event-log.js";
import { instancesView } from "../core/instances.js";
import { PgListener } from "../core/pg-listener.js";
import { Scheduler } from "../core/scheduler.js";
import { createApp } from "./app.js";
import { HealthMonitor } from "./health-monitor.js";
import { databaseCheck } from "./health.routes.js";
import { Metrics } from "./metrics.js";
import { targets } from "./resources.schemas.js";
import { ResourceService } from "./resources.service.js";
import { BackupService } from "./backups.service.js";
import { scheduleBackupRetention } from "./backup-retention.js";
import { RestoreVerifier } from "./restore-verification.js";
import { WebhookDeliverer } from "./webhook-delivery.js";
import { WebhookService } from "./webhooks.service.js";
import { checkBudgets } from "../core/budget.js";
import { openMissingSegments } from "../core/metering.js";
import { stripeClient } from "./stripe-client.js";
import { UsageReporter } from "./usage-reporter.js";
import { UsageService } from "./usage.service.js";

export interface Service {
  app: Express;
  db: Database;
  /** The in-process worker (tests); undefined when operations run in a worker process. */
  worker?: OperationWorker;
  /** The worker process, when operations run in one. */
  workerProcess?: WorkerProcess;
  /** Checks ACTIVE resources; in the API process, whose metrics it counts in. */
  health: HealthMonitor;
  /** Restores each database's latest backups into scratch containers on a schedule (BACKUP_VERIFY_INTERVAL_HOURS). */
  restoreVerification: RestoreVerifier;
  /** Sends the webhooks' outbox; in the API process, whose metrics it counts in. */
  webhooks: WebhookDeliverer;
  /** Reports usage to Stripe (undefined: billing is off, no STRIPE_API_KEY). */
  usageReporter?: UsageReporter;
  /** Stops the health monitor and the worker (waiting for running operations), then the connections. */
  close(): Promise<void>;
}

/**
 * Where operations run: in a worker process beside the API (the default:
 * engine work never delays a request), in this process, or nowhere.
 */
export type WorkerMode = "process" | "in-process" | "none";

export async function createService(
  config: Config,
  logger: Logger,
  {
    worker: mode = "in-process",
    runWorker = true,
    deliverWebhooks = runWorker,
    workerEnv,
  }: {
    worker?: WorkerMode;
    runWorker?: boolean;
    /** Run the webhook delivery rounds (default: when the worker runs; API tests without a worker turn them on alone). */
    deliverWebhooks?: boolean;
    workerEnv?: NodeJS.ProcessEnv;
  } = {},
): Promise<Service> {
  const db = createDatabase(config.databaseUrl);
  const metrics = new Metrics(db);
  const notifications = new PgListener(config.databaseUrl, eventChannel, logger);
  await notifications
    .start()
    .catch((error: unknown) => logger.warn({ err: error }, "event notifications unavailable; streams poll instead"));
  const cipher = new CredentialsCipher(config.keyring);
  const isolationProblem = dockerIsolationProblem();
  if (isolationProblem)
    logger.warn(`resources are NOT isolated from each other: ${isolationProblem}; only one team may create resources on this Docker host`);
  const backups = new BackupService(db, {
    backupsDir: config.backupsDir,
    retentionAfterDeleteDays: config.backupRetentionAfterDeleteDays,
    kubernetes: config.cloud.kubernetes,
  });
  const resources = new ResourceService(
    db,
    cipher,
    config.images,
    config.cloud,
    { isolationProblem },
    config.limits,
    config.projectsDir,
    backups,
  );
  const stripe = stripeClient(config.billing);
  const app = createApp({
    db,
    usage: new UsageService(db, stripe),
    logger,
    resources,
    backups,
    webhooks: new WebhookService(db, cipher, config.webhooks.allowPrivateDestinations),
    notifications,
    metrics,
    readiness: { database: databaseCheck(db), docker: dockerCheck(), pulumi: pulumiCheck() },
    warnings: isolationProblem ? { isolation: isolationProblem } : undefined,
    instances: () => instancesView(db, config),
    targets: targets.filter((target) => !unavailableTarget(target, config.cloud)),
    scrapeToken: config.scrapeToken,
    eventStreamsPerTeam: config.limits.eventStreamsPerTeam,
    console: config.console,
  });
  // Periodic work runs once across all instances: each instance's scheduler competes for it.
  const scheduler = new Scheduler(db, logger);
  const health = new HealthMonitor({
    db,
    events: new EventLog(db),
    cipher,
    metrics,
    logger,
    settings: { ...config.healthChecks, backupsDir: config.backupsDir, dockerHostId: config.dockerHostId },
    scheduler,
    projectsDir: config.projectsDir,
    kubernetes: config.cloud.kubernetes,
  });
  const retention = scheduleBackupRetention(scheduler, db, config.backupsDir, config.backupRetentionAfterDeleteDays, logger);
  const restoreVerification = new RestoreVerifier({
    db,
    events: new EventLog(db),
    metrics,
    logger,
    settings: {
      intervalHours: config.backupVerifyIntervalHours,
      backupsDir: config.backupsDir,
      dockerHostId: config.dockerHostId,
      defaultImage: config.images.postgres,
    },
    // A failed verification makes the resource DEGRADED now, through the health path.
    afterVerifying: (id) => health.checkResource(id),
  });
  restoreVerification.schedule(scheduler);
  // Budgets: the 80 / 100 % webhooks as the month's cost grows between creates.
  const budgets = scheduler.every("budget-check", { intervalSeconds: config.billing.budgetCheckIntervalSeconds }, async () => {
    // Resources running since before metering existed are metered from now on, first.
    await openMissingSegments(db, () => new Date());
    await checkBudgets(db, () => new Date());
  });
  const usageReporter = stripe
    ? new UsageReporter(
        db,
        stripe,
        { meterEventName: config.billing.meterEventName, intervalSeconds: config.billing.reportIntervalSeconds },
        logger,
      )
    : undefined;
  const reporting = usageReporter?.schedule(scheduler);
  const deliverer = new WebhookDeliverer({ db, cipher, metrics, logger, settings: config.webhooks, scheduler });
  let inProcess: WorkerHandle | undefined;
  let child: WorkerProcess | undefined;
  if (mode === "in-process") {
    inProcess = await startInProcessWorker(config, db, logger, metrics);
    if (runWorker) inProcess.worker.start();
  } else if (mode === "process") {
    // The worker process loads its configuration from its environment: the one this service's came from.
    child = new WorkerProcess(logger, metrics, workerEnv);
    child.start();
  }
  if (runWorker) {
    health.start();
    retention.start();
    restoreVerification.start();
  }
  if (deliverWebhooks) {
    deliverer.start();
    // Budgets and usage reports are API-side work like the webhooks they feed.
    budgets.start();
    reporting?.start();
  }
  return {
    app,
    db,
    worker: inProcess?.worker,
    workerProcess: child,
    health,
    restoreVerification,
    webhooks: deliverer,
    usageReporter,
    async close() {
      await health.stop();
      await deliverer.stop();
      await scheduler.stop();
      await inProcess?.stop();
      await child?.stop();
      await notifications.stop();
      await db.$disconnect();
    },
  };
}
