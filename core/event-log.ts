// What users watch: the deployment flow's stages, written as Event rows and
// announced with NOTIFY so every service instance's SSE streams wake up. An
// event that is also news for the team's webhooks (a backup that failed, say)
// is queued for them in the same transaction (core/notifications.ts).
import type { Database } from "./db.js";
import type { Prisma } from "../prisma/generated/client.js";
import { notifyStatement, type NotificationEvent } from "./notifications.js";

export const eventChannel = "provisioner_events";

/** The six stages of the deployment flow and where each starts. */
export const stages = {
  initialising: 0,
  allocating: 20,
  configuring: 40,
  provisioning: 60,
  verifying: 80,
  complete: 100,
} as const;

export type Stage = keyof typeof stages | "failed" | "cancelled" | "queued" | "health" | "backup";

/**
 * What a backup event is, in its detail's `type`: stable names a subscriber
 * (webhooks, issue 12 part 5) filters on. Never a secret in the message or detail.
 */
export const backupEventTypes = {
  /** A database's backups started failing (or failed differently): the sidecar's reason. */
  backupFailed: "backup.failed",
  /** A backup was restored into a scratch server and read back. */
  restoreVerified: "restore_verification.succeeded",
  /** A backup did not restore, or the check did not read it back. */
  restoreVerificationFailed: "restore_verification.failed",
} as const;

export interface EventInput {
  resourceId: string;
  operationId?: string;
  stage: Stage;
  progress: number;
  message: string;
  detail?: Record<string, unknown>;
}

export class EventLog {
  constructor(private readonly db: Database) {}

  /**
   * `notification`: also tell the webhooks of the resource's team, with this
   * type and data (resource status moves need not: core/resource-status.ts
   * tells them itself).
   */
  async record(event: EventInput, notification?: { type: NotificationEvent; data: Record<string, unknown> }): Promise<void> {
    await this.db.$transaction([
      this.db.event.create({
        data: { ...event, progress: Math.round(event.progress), detail: event.detail as Prisma.InputJsonValue | undefined },
      }),
      ...(notification ? [notifyStatement(this.db, { resourceId: event.resourceId }, notification.type, notification.data)] : []),
      this.db.$executeRaw`SELECT pg_notify(${eventChannel}, ${event.resourceId})`,
    ]);
  }
}
