// Budgets (issue 15): a team's monthly budget in cents. When the month's cost
// reaches 80 % and 100 % of it, the team's webhooks are told once per month
// and threshold (`budget.threshold_reached`): the budget_alerts row and the
// outbox row are written in one transaction. Over budget, creates are refused
// unless the tier allows overage (api/resources.service.ts).
import { overageAllowed, type TierName } from "../components/prices/index.js";
import type { Prisma } from "../prisma/generated/client.js";
import { monthOf, usageBetween } from "./metering.js";
import { notify } from "./notifications.js";

type Client = Prisma.TransactionClient;

export const budgetThresholds = [80, 100] as const;

export interface BudgetState {
  month: string;
  budgetCents: number | null;
  costCents: number;
  /** cost / budget, 0 without a budget. */
  share: number;
  overageAllowed: boolean;
  exceeded: boolean;
}

/** The month to `now` of a team: cost so far against its budget. */
export async function budgetState(db: Client, team: { id: string; tier: string; monthlyBudgetCents: number | null }, now: Date) {
  const month = monthOf(now);
  const start = new Date(`${month}-01T00:00:00.000Z`);
  const { totalCents } = await usageBetween(db, team.id, start, now, month);
  const budget = team.monthlyBudgetCents;
  return {
    month,
    budgetCents: budget,
    costCents: totalCents,
    share: budget ? totalCents / budget : 0,
    overageAllowed: overageAllowed(team.tier as TierName),
    exceeded: budget !== null && totalCents >= budget,
  } satisfies BudgetState;
}

/**
 * Records the thresholds the team's month has reached and queues one webhook
 * event per threshold newly reached (a threshold already recorded this month
 * says nothing again). Returns the state and the thresholds newly reached.
 */
export async function checkBudget(db: Client, teamId: string, now: Date): Promise<{ state: BudgetState | null; reached: number[] }> {
  const team = await db.team.findUniqueOrThrow({ where: { id: teamId }, select: { id: true, tier: true, monthlyBudgetCents: true } });
  const reached: number[] = [];
  // Without a budget there is nothing to tell: the month's usage is not even read (every create asks).
  if (team.monthlyBudgetCents === null) return { state: null, reached };
  const budget = team.monthlyBudgetCents;
  const state = await budgetState(db, team, now);
  for (const percent of budgetThresholds) {
    if (state.costCents * 100 < budget * percent) continue;
    const inserted = await db.$executeRaw`
      INSERT INTO budget_alerts (team_id, month, percent, cost_cents, budget_cents)
      VALUES (${teamId}::uuid, ${state.month}, ${percent}, ${state.costCents}, ${budget})
      ON CONFLICT DO NOTHING`;
    if (inserted === 0) continue;
    reached.push(percent);
    await notify(db, {
      teamId,
      type: "budget.threshold_reached",
      data: {
        month: state.month,
        threshold: percent / 100,
        budgetCents: budget,
        costCents: state.costCents,
        currency: "usd",
        overageAllowed: state.overageAllowed,
      },
    });
  }
  return { state, reached };
}

/** Every team with a budget, checked (the scheduler's `budget-check` job); each team in a transaction of its own. */
export async function checkBudgets(db: Client & { $transaction: <T>(fn: (tx: Client) => Promise<T>) => Promise<T> }, now: () => Date) {
  const teams = await db.team.findMany({ where: { monthlyBudgetCents: { not: null } }, select: { id: true } });
  let reached = 0;
  for (const team of teams) reached += (await db.$transaction((tx) => checkBudget(tx, team.id, now()))).reached.length;
  return reached;
}
