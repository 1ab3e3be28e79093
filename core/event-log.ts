// What users watch: the deployment flow's stages, written as Event rows and
// announced with NOTIFY so every service instance's SSE streams wake up.
import type { Database } from "./db.js";
import type { Prisma } from "../prisma/generated/client.js";

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

  async record(event: EventInput): Promise<void> {
    await this.db.$transaction([
      this.db.event.create({
        data: { ...event, progress: Math.round(event.progress), detail: event.detail as Prisma.InputJsonValue | undefined },
      }),
      this.db.$executeRaw`SELECT pg_notify(${eventChannel}, ${event.resourceId})`,
    ]);
  }
}
