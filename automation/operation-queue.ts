// The durable operation queue: the `operations` table. One RUNNING operation
// per resource, FIFO per resource (by seq), at most `concurrency` RUNNING in
// all, across every service instance. A worker holds a lease on what it runs
// and renews it; an expired lease means the worker died (kill -9, host lost)
// and the operation is recovered by whoever claims it next.
import type { Database } from "../api/db.js";
import type { Operation, OperationKind, OperationStatus, Prisma } from "../prisma/generated/client.js";

/** Serializes claims across instances, so the concurrency limit holds. */
const claimLockKey = 0x70726f76; // "prov"

export class OperationQueue {
  constructor(
    private readonly db: Database,
    /** This worker, in leases: host:pid:random. */
    readonly owner: string,
    private readonly leaseSeconds: number,
  ) {}

  /** Adds an operation behind the resource's others (inside the caller's transaction). */
  static enqueue(tx: Prisma.TransactionClient, resourceId: string, kind: OperationKind, params: Record<string, unknown> = {}): Promise<Operation> {
    return tx.operation.create({ data: { resourceId, kind, params: params as Prisma.InputJsonValue } });
  }

  /** How many operations of the resource run or wait before this one. */
  static ahead(db: Database, operation: Operation): Promise<number> {
    return db.operation.count({ where: { resourceId: operation.resourceId, seq: { lt: operation.seq }, status: { in: ["QUEUED", "RUNNING"] } } });
  }

  /** Takes the oldest runnable operation, if the limit allows; undefined if none. */
  async claim(concurrency: number): Promise<Operation | undefined> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${claimLockKey})`;
      const running = await tx.operation.count({ where: { status: "RUNNING" } });
      if (running >= concurrency) return undefined;
      const [next] = await tx.$queryRaw<{ id: string }[]>`
        SELECT o.id FROM operations o
        WHERE o.status = 'QUEUED'
          AND NOT EXISTS (SELECT 1 FROM operations p
                          WHERE p.resource_id = o.resource_id AND p.seq < o.seq AND p.status IN ('QUEUED', 'RUNNING'))
        ORDER BY o.seq LIMIT 1`;
      if (!next) return undefined;
      return tx.operation.update({
        where: { id: next.id },
        data: { status: "RUNNING", leaseOwner: this.owner, leaseExpiresAt: this.leaseEnd(), startedAt: new Date(), attempts: { increment: 1 } },
      });
    });
  }

  /** Operations whose worker stopped renewing its lease: now this worker's to recover. */
  async reclaimExpired(): Promise<Operation[]> {
    return this.db.$queryRaw<Operation[]>`
      UPDATE operations SET lease_owner = ${this.owner}, lease_expires_at = ${this.leaseEnd()}, attempts = attempts + 1
      WHERE status = 'RUNNING' AND lease_expires_at < now()
      RETURNING id, seq, resource_id AS "resourceId", kind, status, params, attempts, error,
                lease_owner AS "leaseOwner", lease_expires_at AS "leaseExpiresAt",
                cancel_requested_at AS "cancelRequestedAt", created_at AS "createdAt",
                started_at AS "startedAt", finished_at AS "finishedAt"`;
  }

  /** Renews the leases of `ids`; returns those a client asked to cancel. */
  async heartbeat(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db.operation.updateMany({ where: { id: { in: ids }, leaseOwner: this.owner }, data: { leaseExpiresAt: this.leaseEnd() } });
    const cancelled = await this.db.operation.findMany({ where: { id: { in: ids }, cancelRequestedAt: { not: null } }, select: { id: true } });
    return cancelled.map((o) => o.id);
  }

  async finish(id: string, status: Extract<OperationStatus, "SUCCEEDED" | "FAILED" | "CANCELLED">, error?: string): Promise<void> {
    await this.db.operation.update({ where: { id }, data: { status, error, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null } });
  }

  private leaseEnd(): Date {
    return new Date(Date.now() + this.leaseSeconds * 1000);
  }
}
