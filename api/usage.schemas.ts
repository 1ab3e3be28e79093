// The shapes of usage, budgets and billing (issue 15); zod, like the other
// schemas: requests are validated with them and usage.openapi.ts documents them.
import { z } from "zod";

export const usageQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be a month, YYYY-MM")
    .meta({ description: "The month (UTC), YYYY-MM; a month not over yet counts up to now." }),
});

const segmentView = z.object({
  size: z.string(),
  tier: z.string(),
  priceVersion: z.string(),
  usdPerHour: z.number(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  hours: z.number(),
});

export const usageLineView = z.object({
  resourceId: z.uuid(),
  name: z.string(),
  template: z.string(),
  target: z.string(),
  hours: z.number(),
  cpuHours: z.number(),
  memoryGbHours: z.number(),
  storageGbHours: z.number(),
  costCents: z.number().int().meta({ description: "The resource's segments' exact cost, rounded half up to the cent once." }),
  segments: z.array(segmentView).meta({ description: "Each stretch at one size and price, cut to the month." }),
});

export const usageView = z.object({
  month: z.string(),
  currency: z.literal("usd"),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  lines: z.array(usageLineView),
  totalCents: z.number().int().meta({ description: "The sum of the lines." }),
});

export const estimateView = z
  .object({
    currency: z.string(),
    priceVersion: z.string(),
    usdPerHour: z.number(),
    usdPerMonth: z.number().meta({ description: "usdPerHour × hoursPerMonth, rounded to the cent." }),
    hoursPerMonth: z.number(),
  })
  .meta({ description: "The estimated monthly cost at the caller's tier (the price table in components/prices/)." });

export const budgetBody = z.strictObject({
  monthlyBudgetCents: z
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .nullable()
    .meta({ description: "The month's budget in US cents; null removes it." }),
});

export const budgetView = z.object({
  month: z.string(),
  monthlyBudgetCents: z.number().int().nullable(),
  costCents: z.number().int().meta({ description: "The month's cost so far." }),
  overageAllowed: z.boolean().meta({ description: "Whether the tier may create past the budget." }),
  exceeded: z.boolean(),
});

export const billingView = z.object({
  enabled: z.boolean().meta({ description: "Whether the service reports usage to Stripe (STRIPE_API_KEY is set)." }),
  stripeCustomerId: z.string().nullable(),
  linkedAt: z.iso.datetime().nullable(),
});
