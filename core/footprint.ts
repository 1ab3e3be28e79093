// A resource's footprint (the sum of its containers' limits) and the
// accounting the API and the worker share: what a team's quota counts.
import { buildSystem, prepareRequest, type PreparedRequest } from "../components/templates/index.js";
import type { ImageSet } from "../components/images.js";
import type { Prisma } from "../prisma/generated/client.js";
import type { Database } from "./db.js";

export interface Footprint {
  cpus: number;
  memoryMb: number;
}

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
      running = footprint(
        prepareRequest({
          template: resource.template,
          name: resource.name,
          team: resource.team.name,
          resourceId: resource.id,
          hostName: resource.hostName,
          size: resource.size,
          options: resource.options,
        }),
        images,
      );
    } catch {
      return; // what runs no longer validates (a template changed since): the reservation stays, never less
    }
    const waiting = await tx.operation.findMany({
      where: { resourceId, kind: "UPDATE", status: { in: ["QUEUED", "RUNNING"] }, ...(ending && { id: { not: ending } }) },
      select: { params: true },
    });
    const reserved = waiting
      .map((o) => (o.params as { footprint?: Footprint }).footprint)
      .filter((f): f is Footprint => f !== undefined)
      .reduce((max, f) => ({ cpus: Math.max(max.cpus, f.cpus), memoryMb: Math.max(max.memoryMb, f.memoryMb) }), running);
    await tx.resource.update({ where: { id: resourceId }, data: reserved });
  });
}
