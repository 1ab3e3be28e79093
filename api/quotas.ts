// Quotas by tier, counted over a team's live (not DELETED) resources: how
// many, and the CPU and memory limits of all their containers.
import { buildSystem, prepareRequest, type PreparedRequest } from "../components/templates/index.js";
import type { ImageSet } from "../components/images.js";
import type { Prisma, Tier } from "../prisma/generated/client.js";
import type { Database } from "./db.js";
import { ApiError } from "./errors.js";

export interface Footprint {
  cpus: number;
  memoryMb: number;
}

export const tierLimits: Record<Tier, Footprint & { resources: number }> = {
  FREE: { resources: 3, cpus: 4, memoryMb: 4096 },
  BASIC: { resources: 10, cpus: 16, memoryMb: 16384 },
  PRO: { resources: 50, cpus: 64, memoryMb: 65536 },
  ENTERPRISE: { resources: 500, cpus: 512, memoryMb: 524288 },
};

/** The sum of the containers' limits, from the template's own system model. */
export function footprint(prepared: PreparedRequest, images: ImageSet): Footprint {
  // Ports and secrets do not change the limits: placeholders are enough.
  const ports = Object.fromEntries(prepared.portNames.map((name, i) => [name, 1 + i]));
  const secrets = Object.fromEntries(Object.keys(prepared.secretSizes).map((name) => [name, "0".repeat(64)]));
  const { model } = buildSystem(prepared, { ports, secrets, images, publishIp: "127.0.0.1", publicHost: "127.0.0.1" });
  const services = Object.values(model.services);
  return {
    cpus: Math.round(services.reduce((sum, s) => sum + s.limits.cpus, 0) * 100) / 100,
    memoryMb: services.reduce((sum, s) => sum + s.limits.memoryMb, 0),
  };
}

/** Serializes a team's creates and resizes until the transaction ends. */
export async function lockTeam(tx: Prisma.TransactionClient, teamId: string): Promise<void> {
  await tx.$executeRaw`SELECT id FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
}

/**
 * Throws 403 quota_exceeded if the team cannot take `adding` more. Runs in the
 * transaction that creates or resizes, after lockTeam(), so two requests
 * cannot both take the last slot.
 */
export async function checkQuota(tx: Prisma.TransactionClient, team: { id: string; tier: Tier }, adding: Footprint & { resources: number }, excludeResourceId?: string): Promise<void> {
  const used = await tx.resource.aggregate({
    where: { teamId: team.id, status: { not: "DELETED" }, ...(excludeResourceId && { id: { not: excludeResourceId } }) },
    _count: { _all: true },
    _sum: { cpus: true, memoryMb: true },
  });
  const limit = tierLimits[team.tier];
  const now = { resources: used._count._all, cpus: Number(used._sum.cpus ?? 0), memoryMb: used._sum.memoryMb ?? 0 };
  const over = (["resources", "cpus", "memoryMb"] as const).filter((k) => now[k] + adding[k] > limit[k] + 1e-9);
  if (over.length === 0) return;
  const detail = over.map((k) => `${k}: ${now[k]} used + ${adding[k]} requested > ${limit[k]}`).join("; ");
  throw new ApiError(403, "quota_exceeded", `the ${team.tier} tier's quota does not allow this (${detail})`, over.map((k) => ({ field: k === "resources" ? "name" : "size", message: `${k} quota exceeded` })));
}

/**
 * A resource's accounting once an UPDATE has ended (succeeded, failed or
 * cancelled, queued or running): the footprint of what runs — its size and
 * options, which only a successful deployment changes — or more while other
 * UPDATEs wait, since each holds the larger of the old and new footprint
 * from its PATCH on. `ending`: the operation that just ended, still RUNNING.
 */
export async function settleReservation(db: Database, images: ImageSet, resourceId: string, ending?: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const resource = await tx.resource.findUniqueOrThrow({ where: { id: resourceId }, include: { team: true } });
    await lockTeam(tx, resource.teamId);
    let running: Footprint;
    try {
      running = footprint(prepareRequest({
        template: resource.template,
        name: resource.name,
        team: resource.team.name,
        resourceId: resource.id,
        hostName: resource.hostName,
        size: resource.size,
        options: resource.options,
      }), images);
    } catch {
      return; // what runs no longer validates (a template changed since): the reservation stays, never less
    }
    const waiting = await tx.operation.findMany({
      where: { resourceId, kind: "UPDATE", status: { in: ["QUEUED", "RUNNING"] }, ...(ending && { id: { not: ending } }) },
      select: { params: true },
    });
    const reserved = waiting.map((o) => (o.params as { footprint?: Footprint }).footprint).filter((f): f is Footprint => f !== undefined).reduce((max, f) => ({ cpus: Math.max(max.cpus, f.cpus), memoryMb: Math.max(max.memoryMb, f.memoryMb) }), running);
    await tx.resource.update({ where: { id: resourceId }, data: reserved });
  });
}
