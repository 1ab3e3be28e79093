// Usage, budgets and the team's Stripe customer (issue 15). Reads segments
// through core/metering.ts; the clock is injected so tests can move time.
import type Stripe from "stripe";
import { budgetState } from "../core/budget.js";
import type { Database } from "../core/db.js";
import { usageOf } from "../core/metering.js";
import type { Team } from "../prisma/generated/client.js";
import { ApiError } from "./errors.js";
import { body } from "./resources.schemas.js";
import * as schemas from "./usage.schemas.js";

export class UsageService {
  constructor(
    private readonly db: Database,
    /** Stripe's client; undefined: billing is off. */
    private readonly stripe: Stripe | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async usage(teamId: string, month: string) {
    const usage = await usageOf(this.db, teamId, month, this.clock());
    return body(schemas.usageView, {
      ...usage,
      lines: usage.lines.map((line) => ({ ...line, segments: line.segments.map(({ micro: _micro, ...segment }) => segment) })),
    });
  }

  /** One row per segment: what an accountant imports. Names are the team's own; quoted as CSV requires. */
  async csv(teamId: string, month: string): Promise<string> {
    const usage = await usageOf(this.db, teamId, month, this.clock());
    const quote = (value: string | number) => {
      const text = String(value);
      // A leading =, +, - or @ would be a formula in a spreadsheet.
      const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
      return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    };
    const rows = [
      [
        "month",
        "resource_id",
        "name",
        "template",
        "target",
        "size",
        "tier",
        "price_version",
        "usd_per_hour",
        "from",
        "to",
        "hours",
        "cost_cents",
      ],
    ];
    for (const line of usage.lines)
      line.segments.forEach((segment, i) =>
        rows.push([
          usage.month,
          line.resourceId,
          line.name,
          line.template,
          line.target,
          segment.size,
          segment.tier,
          segment.priceVersion,
          String(segment.usdPerHour),
          segment.from,
          segment.to,
          String(segment.hours),
          // The line's cost on its first row: the rounding is per resource.
          i === 0 ? String(line.costCents) : "",
        ]),
      );
    rows.push([usage.month, "", "total", "", "", "", "", "", "", usage.from, usage.to, "", String(usage.totalCents)]);
    return rows.map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
  }

  async budget(team: Team) {
    const fresh = await this.db.team.findUniqueOrThrow({ where: { id: team.id } });
    const state = await budgetState(this.db, fresh, this.clock());
    return body(schemas.budgetView, {
      month: state.month,
      monthlyBudgetCents: state.budgetCents,
      costCents: state.costCents,
      overageAllowed: state.overageAllowed,
      exceeded: state.exceeded,
    });
  }

  async setBudget(team: Team, monthlyBudgetCents: number | null) {
    await this.db.team.update({ where: { id: team.id }, data: { monthlyBudgetCents } });
    return this.budget(team);
  }

  async billing(team: Team) {
    const fresh = await this.db.team.findUniqueOrThrow({ where: { id: team.id } });
    return body(schemas.billingView, {
      enabled: this.stripe !== undefined,
      stripeCustomerId: fresh.stripeCustomerId,
      linkedAt: fresh.stripeLinkedAt?.toISOString() ?? null,
    });
  }

  /**
   * Links the team to a new Stripe customer made for it (a team cannot name
   * another's customer). The Idempotency-Key is the team's id: a retry after a
   * crash gets the same customer back from Stripe.
   */
  async linkStripe(team: Team) {
    if (!this.stripe)
      throw new ApiError(409, "billing_off", "billing is off: the service has no STRIPE_API_KEY", [
        { field: "billing", message: "is off" },
      ]);
    const fresh = await this.db.team.findUniqueOrThrow({ where: { id: team.id } });
    if (fresh.stripeCustomerId)
      throw new ApiError(409, "already_linked", "the team is linked to a Stripe customer already", [
        { field: "stripeCustomerId", message: "is set" },
      ]);
    const customer = await this.stripe.customers.create(
      { description: `provisioner team ${team.id}`, metadata: { provisioner_team_id: team.id } },
      { idempotencyKey: `provisioner-customer-${team.id}` },
    );
    await this.db.team.updateMany({
      where: { id: team.id, stripeCustomerId: null },
      data: { stripeCustomerId: customer.id, stripeLinkedAt: this.clock() },
    });
    return this.billing(team);
  }
}
