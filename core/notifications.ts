// Notifications (issue 12): what a team's webhooks are told, and the one way
// to tell them. `notify` writes the event into the outbox (webhook_deliveries),
// one row per webhook of the team subscribed to its type, in the caller's
// transaction when given one: an event is queued exactly when the change it
// reports commits, and delivering it (api/webhook-delivery.ts, a job of the
// scheduler) can never fail or delay that change.
import crypto from "node:crypto";
import { Prisma, type ResourceStatus } from "../prisma/generated/client.js";

/** The closed list of event types a webhook may subscribe to. */
export const notificationEvents = [
  "resource.active",
  "resource.failed",
  "resource.degraded",
  "resource.recovered",
  "resource.deleted",
  // Emitted by the backups' code (issue 12, parts 1-4) through notify().
  "backup.failed",
  "restore_verification.failed",
  "quota.threshold_reached",
  // Issue 15: the month's cost reached 80 % or 100 % of the team's budget (core/budget.ts).
  "budget.threshold_reached",
] as const;

export type NotificationEvent = (typeof notificationEvents)[number];

/** The resource an event is about, as its payload names it: ids and names only, never credentials or endpoints. */
export interface ResourceRef {
  id: string;
  name: string;
  template: string;
  status: ResourceStatus;
}

export interface Notification {
  teamId: string;
  type: NotificationEvent;
  /** The event's own fields (`data` of the payload). Never a secret: the payload is stored and sent as is. */
  data: Record<string, unknown>;
}

/** What a webhook receives: Standard Webhooks' payload structure ({type, timestamp, data}). */
export function payloadOf(type: NotificationEvent, data: Record<string, unknown>, at: Date): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

/** Whose webhooks are told: a team's, or the team owning a resource (found in the same statement). */
export type Audience = { teamId: string } | { resourceId: string };

/**
 * The statement that queues an event for every webhook of the audience's
 * team subscribed to its type (not yet run: a PrismaPromise, so it can join a
 * batch transaction, as EventLog.record does). The event id (the `webhook-id`
 * header) is the same for every webhook and every retry: receivers deduplicate by it.
 */
export function notifyStatement(db: Prisma.TransactionClient, audience: Audience, type: NotificationEvent, data: Record<string, unknown>) {
  const eventId = `msg_${crypto.randomUUID()}`;
  const body = payloadOf(type, data, new Date());
  const team =
    "teamId" in audience
      ? Prisma.sql`${audience.teamId}::uuid`
      : Prisma.sql`(SELECT team_id FROM resources WHERE id = ${audience.resourceId}::uuid)`;
  return db.$executeRaw`
    INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body)
    SELECT id, ${eventId}, ${type}, ${body} FROM webhooks
    WHERE team_id = ${team} AND ${type} = ANY(event_types)`;
}

/**
 * Queues `notification` for every webhook of its team subscribed to its type;
 * returns how many deliveries were queued. One statement, so it joins the
 * caller's transaction when `db` is one.
 */
export async function notify(db: Prisma.TransactionClient, notification: Notification): Promise<number> {
  return notifyStatement(db, { teamId: notification.teamId }, notification.type, notification.data);
}

/** The event a status move is, if any: an operation's outcome, or the health monitor's verdict. Restating a status is no event. */
export function eventOfMove(from: ResourceStatus, to: ResourceStatus): NotificationEvent | undefined {
  if (from === to) return undefined;
  switch (to) {
    case "ACTIVE":
      return from === "DEGRADED" ? "resource.recovered" : "resource.active";
    case "DEGRADED":
      return "resource.degraded";
    case "FAILED":
      return "resource.failed";
    case "DELETED":
      return "resource.deleted";
    default:
      return undefined;
  }
}
