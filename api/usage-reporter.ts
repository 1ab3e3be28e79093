// Reporting usage to Stripe's Billing Meters (issue 15), outbox style. Each
// round (a job of the scheduler) first records, per linked team and finished
// hour, what the hour adds to the month's cost in cents (a usage_reports row,
// PENDING; the month-to-date cost at the hour's end minus what the month's
// earlier rows hold, so the reported values add up to the month's total to
// the cent), then sends every PENDING row as one meter event and marks it
// SENT. The row's `identifier` is both the meter event's identifier (Stripe
// deduplicates on it) and the request's Idempotency-Key: a crash between
// recording and sending sends the row once, in the next round; a crash after
// sending and before marking sends it again under the same identifier.
import type { Logger } from "pino";
import type Stripe from "stripe";
import type { Database } from "../core/db.js";
import { monthOf, usageBetween } from "../core/metering.js";
import type { Scheduler } from "../core/scheduler.js";
import { errorMessage } from "../core/error-message.js";

const hourMs = 3_600_000;
/** How many hours a round records per team at most (a service down for weeks catches up over several rounds). */
const maxHoursPerRound = 24 * 7;

const startOfHour = (at: Date) => new Date(Math.floor(at.getTime() / hourMs) * hourMs);
const startOfMonth = (at: Date) => new Date(`${monthOf(at)}-01T00:00:00.000Z`);

export interface ReporterSettings {
  meterEventName: string;
  intervalSeconds: number;
}

export class UsageReporter {
  constructor(
    private readonly db: Database,
    private readonly stripe: Stripe,
    private readonly settings: ReporterSettings,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  schedule(scheduler: Scheduler) {
    return scheduler.every("usage-report", { intervalSeconds: this.settings.intervalSeconds }, async () => {
      await this.record();
      await this.send();
    });
  }

  /** Records a PENDING row for every finished hour of every linked team not recorded yet; returns how many. */
  async record(): Promise<number> {
    const now = this.clock();
    const teams = await this.db.team.findMany({
      where: { stripeCustomerId: { not: null } },
      select: { id: true, stripeCustomerId: true, stripeLinkedAt: true },
    });
    let recorded = 0;
    for (const team of teams) {
      const last = await this.db.usageReport.findFirst({ where: { teamId: team.id }, orderBy: { periodStart: "desc" } });
      let start = last ? last.periodEnd : startOfHour(team.stripeLinkedAt ?? now);
      for (let n = 0; n < maxHoursPerRound && start.getTime() + hourMs <= now.getTime(); n++) {
        const end = new Date(start.getTime() + hourMs);
        await this.db.$transaction(async (tx) => {
          const month = startOfMonth(start);
          const { totalCents } = await usageBetween(tx, team.id, month, end);
          const before = await tx.usageReport.aggregate({
            where: { teamId: team.id, periodStart: { gte: month, lt: start } },
            _sum: { valueCents: true },
          });
          const value = Math.max(0, totalCents - (before._sum.valueCents ?? 0));
          await tx.usageReport.create({
            data: {
              teamId: team.id,
              stripeCustomerId: team.stripeCustomerId!,
              periodStart: start,
              periodEnd: end,
              valueCents: value,
              identifier: `usage-${team.id}-${start.toISOString()}`,
              state: value > 0 ? "PENDING" : "EMPTY",
            },
          });
        });
        recorded++;
        start = end;
      }
    }
    return recorded;
  }

  /** Sends every PENDING row (oldest first) and marks it SENT; a failure stays PENDING for the next round. Returns how many were sent. */
  async send(): Promise<number> {
    const pending = await this.db.usageReport.findMany({ where: { state: "PENDING" }, orderBy: { id: "asc" }, take: 500 });
    let sent = 0;
    for (const row of pending) {
      try {
        await this.stripe.billing.meterEvents.create(
          {
            event_name: this.settings.meterEventName,
            identifier: row.identifier,
            // The hour's last second: Stripe aggregates meter events by their timestamp.
            timestamp: Math.floor(row.periodEnd.getTime() / 1000) - 1,
            payload: { stripe_customer_id: row.stripeCustomerId, value: String(row.valueCents) },
          },
          { idempotencyKey: row.identifier },
        );
        await this.db.usageReport.update({
          where: { id: row.id },
          data: { state: "SENT", sentAt: this.clock(), attempts: { increment: 1 }, lastError: null },
        });
        sent++;
      } catch (error) {
        // Stripe's message, never the key: the client does not put it in errors.
        const message = errorMessage(error);
        await this.db.usageReport.update({ where: { id: row.id }, data: { attempts: { increment: 1 }, lastError: message.slice(0, 500) } });
        this.logger.warn({ report: row.id.toString(), team: row.teamId }, `usage report not sent: ${message}`);
      }
    }
    return sent;
  }
}
