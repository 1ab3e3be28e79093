// Quotas by tier, counted over a team's live (not DELETED) resources: how
// many, and the CPU and memory limits of all their containers.
import type { Footprint } from "../core/footprint.js";
import { notify } from "../core/notifications.js";
import type { Prisma, Tier } from "../prisma/generated/client.js";
import { ApiError } from "./errors.js";

export { footprint, lockTeam, settleReservation, type Footprint } from "../core/footprint.js";

/**
 * Scaled to the templates' sizes (each template's file): FREE holds one
 * postgres-small with its sidecars (3.5 CPUs, 4.5 GB) or a default
 * ipfs-cluster-small; BASIC a postgres-medium (9.5 CPUs, 32.75 GB) beside a
 * postgres-small. The README's tier table is this one.
 */
export const tierLimits: Record<Tier, Footprint & { resources: number }> = {
  FREE: { resources: 3, cpus: 4, memoryMb: 8 * 1024 },
  BASIC: { resources: 10, cpus: 16, memoryMb: 48 * 1024 },
  PRO: { resources: 50, cpus: 64, memoryMb: 192 * 1024 },
  ENTERPRISE: { resources: 500, cpus: 512, memoryMb: 2048 * 1024 },
};

export type QuotaUse = Footprint & { resources: number };
const dimensions = ["resources", "cpus", "memoryMb"] as const;

/**
 * Throws 403 quota_exceeded if the team cannot take `adding` more. Runs in the
 * transaction that creates or resizes, after lockTeam(), so two requests
 * cannot both take the last slot. Returns what the team uses without `adding`
 * (and without `excludeResourceId`).
 */
export async function checkQuota(
  tx: Prisma.TransactionClient,
  team: { id: string; tier: Tier },
  adding: QuotaUse,
  excludeResourceId?: string,
): Promise<QuotaUse> {
  const used = await tx.resource.aggregate({
    where: { teamId: team.id, status: { not: "DELETED" }, ...(excludeResourceId && { id: { not: excludeResourceId } }) },
    _count: { _all: true },
    _sum: { cpus: true, memoryMb: true },
  });
  const limit = tierLimits[team.tier];
  const now = { resources: used._count._all, cpus: Number(used._sum.cpus ?? 0), memoryMb: used._sum.memoryMb ?? 0 };
  const over = dimensions.filter((k) => now[k] + adding[k] > limit[k] + 1e-9);
  if (over.length === 0) return now;
  const detail = over.map((k) => `${k}: ${now[k]} used + ${adding[k]} requested > ${limit[k]}`).join("; ");
  throw new ApiError(
    403,
    "quota_exceeded",
    `the ${team.tier} tier's quota does not allow this (${detail})`,
    over.map((k) => ({ field: k === "resources" ? "name" : "size", message: `${k} quota exceeded` })),
  );
}

/** The share of a quota at which the team's webhooks are told (`quota.threshold_reached`). */
export const quotaWarningShare = 0.8;

export const addUse = (a: QuotaUse, b: QuotaUse): QuotaUse => ({
  resources: a.resources + b.resources,
  cpus: a.cpus + b.cpus,
  memoryMb: a.memoryMb + b.memoryMb,
});

/**
 * In the transaction of a create or resize: when the change takes any of the
 * quota's dimensions from below 80 % of the tier's limit to 80 % or more, the
 * team's webhooks are told once (one event naming each dimension crossed).
 * Staying above, or going down, says nothing; crossing again after falling
 * below tells again.
 */
export async function notifyQuotaCrossing(
  tx: Prisma.TransactionClient,
  team: { id: string; tier: Tier },
  before: QuotaUse,
  after: QuotaUse,
): Promise<boolean> {
  const limit = tierLimits[team.tier];
  const mark = (k: (typeof dimensions)[number]) => quotaWarningShare * limit[k] - 1e-9;
  const crossed = dimensions.filter((k) => before[k] < mark(k) && after[k] >= mark(k));
  if (crossed.length === 0) return false;
  await notify(tx, {
    teamId: team.id,
    type: "quota.threshold_reached",
    data: {
      tier: team.tier,
      threshold: quotaWarningShare,
      quotas: crossed.map((k) => ({ quota: k, used: Math.round(after[k] * 100) / 100, limit: limit[k] })),
    },
  });
  return true;
}

/** What the team uses of its tier's quota now (the console's team page and create wizard). */
export async function quotaUsage(db: Prisma.TransactionClient, team: { id: string; tier: Tier }) {
  const used = await db.resource.aggregate({
    where: { teamId: team.id, status: { not: "DELETED" } },
    _count: { _all: true },
    _sum: { cpus: true, memoryMb: true },
  });
  const limit = tierLimits[team.tier];
  return {
    resources: { used: used._count._all, limit: limit.resources },
    cpus: { used: Number(used._sum.cpus ?? 0), limit: limit.cpus },
    memoryMb: { used: used._sum.memoryMb ?? 0, limit: limit.memoryMb },
  };
}
