// Metering (issue 15): usage as intervals. A resource runs in segments, each
// at one size and price, from a start to an end; the status moves open and
// close them (core/resource-status.ts calls meterMove in the transaction of
// the move): the first ACTIVE (or DEGRADED) opens one, an ACTIVE after a
// resize closes it and opens the next at the new size, DELETED closes it.
// Nothing ticks: a month's usage is computed from the segments and a clock,
// so a service that dies mid-hour loses nothing and counts nothing twice (a
// move either committed with its segment change or did not happen), and the
// database allows one open segment per resource.
import { centsOf, meteredSize, priceOf } from "../components/prices/index.js";
import type { Prisma, ResourceStatus } from "../prisma/generated/client.js";

type Client = Prisma.TransactionClient;

/** "2026-11" → [start, end) in UTC; undefined when not a YYYY-MM month. */
export function monthBounds(month: string): { start: Date; end: Date } | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return undefined;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

export const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

/**
 * In the transaction of a status move to `to`, at `at`: keeps the resource's
 * segments in step with what runs (see the file's comment). Idempotent: a
 * restated ACTIVE at an unchanged size and price changes nothing.
 */
export async function meterMove(db: Client, resourceId: string, to: ResourceStatus, at: Date): Promise<void> {
  if (to === "DELETED") {
    await db.usageSegment.updateMany({ where: { resourceId, endedAt: null }, data: { endedAt: at } });
    return;
  }
  if (to !== "ACTIVE" && to !== "DEGRADED") return;
  const resource = await db.resource.findUniqueOrThrow({
    where: { id: resourceId },
    select: { teamId: true, template: true, size: true, target: true, options: true, team: { select: { tier: true } } },
  });
  // A template or size the table lacks (one removed since) is metered at no price, saying so
  // ("unpriced" in the usage lines), rather than holding up the status move: a deployment's
  // outcome is never lost to billing. core/metering.test.ts checks every template and size has a price.
  const price = priceOf(resource.team.tier, resource.template, resource.size, resource.options) ?? {
    version: "unpriced",
    microUsdPerHour: 0,
    units: 1,
  };
  const metered = meteredSize(resource.template, resource.size, resource.options);
  const open = await db.usageSegment.findFirst({ where: { resourceId, endedAt: null } });
  if (
    open &&
    open.size === resource.size &&
    open.tier === resource.team.tier &&
    open.units === metered.units &&
    open.priceVersion === price.version &&
    Number(open.microUsdPerHour) === price.microUsdPerHour
  )
    return;
  // A resize priced from when it succeeds: the old segment ends where the new one starts, no gap, no overlap.
  if (open) await db.usageSegment.update({ where: { id: open.id }, data: { endedAt: at < open.startedAt ? open.startedAt : at } });
  await db.usageSegment.create({
    data: {
      resourceId,
      teamId: resource.teamId,
      template: resource.template,
      size: resource.size,
      target: resource.target,
      tier: resource.team.tier,
      units: metered.units,
      cpus: metered.cpus,
      memoryMb: metered.memoryMb,
      storageGb: metered.storageGb,
      priceVersion: price.version,
      microUsdPerHour: BigInt(price.microUsdPerHour),
      startedAt: open && at < open.startedAt ? open.startedAt : at,
    },
  });
}

/**
 * Resources running (ACTIVE or DEGRADED) with no open segment: those made
 * before metering existed. Each gets one from `at` on, under its row's lock as
 * a status move takes it (a move meanwhile wins: it finds the segment open).
 * Run by the scheduler's `budget-check` round; returns how many were opened.
 */
export async function openMissingSegments(
  db: Client & { $transaction: <T>(fn: (tx: Client) => Promise<T>) => Promise<T> },
  at: () => Date,
): Promise<number> {
  const unmetered = await db.$queryRaw<{ id: string }[]>`
    SELECT r.id::text FROM resources r
    WHERE r.status IN ('ACTIVE', 'DEGRADED')
      AND NOT EXISTS (SELECT 1 FROM usage_segments s WHERE s.resource_id = r.id AND s.ended_at IS NULL)`;
  let opened = 0;
  for (const { id } of unmetered) {
    opened += await db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ status: ResourceStatus }[]>`SELECT status FROM resources WHERE id = ${id}::uuid FOR UPDATE`;
      if (!row || (row.status !== "ACTIVE" && row.status !== "DEGRADED")) return 0;
      if (await tx.usageSegment.findFirst({ where: { resourceId: id, endedAt: null } })) return 0;
      await meterMove(tx, id, row.status, at());
      return 1;
    });
  }
  return opened;
}

export interface SegmentLine {
  size: string;
  tier: string;
  priceVersion: string;
  usdPerHour: number;
  from: string;
  to: string;
  hours: number;
  micro: number;
}

export interface UsageLine {
  resourceId: string;
  name: string;
  template: string;
  target: string;
  hours: number;
  cpuHours: number;
  memoryGbHours: number;
  storageGbHours: number;
  costCents: number;
  segments: SegmentLine[];
}

export interface Usage {
  month: string;
  currency: "usd";
  from: string;
  to: string;
  lines: UsageLine[];
  totalCents: number;
}

const hoursOf = (ms: number) => ms / 3_600_000;
const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * What the team used in `month`, up to `now` (the clock: a month not over yet
 * counts its open segments until now). One line per resource: its segments
 * cut to the month, the hours and the CPU, memory and storage hours, and its
 * cost in cents (its segments' exact micro-dollars, rounded half up once);
 * the total is the sum of the lines.
 */
export async function usageOf(db: Client, teamId: string, month: string, now: Date): Promise<Usage> {
  const bounds = monthBounds(month);
  if (!bounds) throw new Error(`not a month: ${month}`);
  return usageBetween(db, teamId, bounds.start, bounds.end < now ? bounds.end : now, month);
}

/** Usage in [start, end) (end capped by the caller at its clock). */
export async function usageBetween(db: Client, teamId: string, start: Date, end: Date, month = monthOf(start)): Promise<Usage> {
  const segments =
    end > start
      ? await db.usageSegment.findMany({
          where: { teamId, startedAt: { lt: end }, OR: [{ endedAt: null }, { endedAt: { gt: start } }] },
          include: { resource: { select: { name: true } } },
          orderBy: [{ startedAt: "asc" }, { id: "asc" }],
        })
      : [];
  const lines = new Map<string, UsageLine & { micro: number }>();
  for (const segment of segments) {
    const from = segment.startedAt > start ? segment.startedAt : start;
    const endedAt = segment.endedAt ?? end;
    const to = endedAt < end ? endedAt : end;
    const ms = Math.max(0, to.getTime() - from.getTime());
    const micro = (ms * Number(segment.microUsdPerHour)) / 3_600_000;
    const hours = hoursOf(ms);
    const line = lines.get(segment.resourceId) ?? {
      resourceId: segment.resourceId,
      name: segment.resource.name,
      template: segment.template,
      target: segment.target,
      hours: 0,
      cpuHours: 0,
      memoryGbHours: 0,
      storageGbHours: 0,
      costCents: 0,
      micro: 0,
      segments: [],
    };
    line.hours += hours;
    line.cpuHours += hours * Number(segment.cpus);
    line.memoryGbHours += (hours * segment.memoryMb) / 1024;
    line.storageGbHours += hours * segment.storageGb;
    line.micro += micro;
    line.segments.push({
      size: segment.size,
      tier: segment.tier,
      priceVersion: segment.priceVersion,
      usdPerHour: Number(segment.microUsdPerHour) / 1_000_000,
      from: from.toISOString(),
      to: to.toISOString(),
      hours: round4(hours),
      micro,
    });
    lines.set(segment.resourceId, line);
  }
  const result = [...lines.values()].map(({ micro, ...line }) => ({
    ...line,
    hours: round4(line.hours),
    cpuHours: round4(line.cpuHours),
    memoryGbHours: round4(line.memoryGbHours),
    storageGbHours: round4(line.storageGbHours),
    costCents: centsOf(micro),
  }));
  return {
    month,
    currency: "usd",
    from: start.toISOString(),
    to: (end > start ? end : start).toISOString(),
    lines: result,
    totalCents: result.reduce((sum, line) => sum + line.costCents, 0),
  };
}
