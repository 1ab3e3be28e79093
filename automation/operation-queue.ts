// The durable operation queue: the `operations` table. One RUNNING operation
// per resource, FIFO per resource (by seq), at most `concurrency` RUNNING in
// all, across every service instance. A worker holds a lease on what it runs
// and renews it; an expired lease means the worker died (kill -9, host lost)
// and the operation is recovered by whoever claims it next.
import type { Database } from "../core/db.js";
import type { Operation, OperationKind, OperationStatus, Prisma } from "../prisma/generated/client.js";

/** Serializes claims across instances, so the concurrency limit holds. */
const claimLockKey = 0x70726f76; // "prov"

/** Why a run whose lease this worker lost was stopped: it must touch nothing more. */
export class LeaseLost extends Error {
  constructor(operationId: string, why: string) {
    super(`lease of operation ${operationId} lost: ${why}`);
    this.name = "LeaseLost";
  }
}

// A run's signal may have been aborted by a cancel before its lease was lost:
// the loss is recorded beside the signal, not as its (first) abort reason.
const lostLeases = new WeakMap<AbortSignal, LeaseLost>();

/** Marks the run of `controller` fenced and aborts it (if a cancel has not already). */
export function fenceRun(controller: AbortController, lost: LeaseLost): void {
  lostLeases.set(controller.signal, lost);
  controller.abort(lost);
}

/** The lease loss of a run, if it was fenced. */
export function leaseLost(signal: AbortSignal): LeaseLost | undefined {
  return lostLeases.get(signal);
}

/**
 * Where a worker runs: its instance (recorded on what it runs) and the Docker
 * host it reaches. Operations of a docker-host resource go only to workers of
 * that resource's host; a resource not yet placed (its first operation) is
 * placed on the host of the worker that claims it. Cloud and Kubernetes
 * resources run anywhere.
 */
export interface WorkerPlacement {
  instanceId: string;
  dockerHostId: string;
}

export class OperationQueue {
  private readonly placement: WorkerPlacement;

  constructor(
    private readonly db: Database,
    /** This worker, in leases: host:pid:random. */
    readonly owner: string,
    private readonly leaseSeconds: number,
    placement?: WorkerPlacement,
  ) {
    this.placement = placement ?? { instanceId: owner.slice(0, 64), dockerHostId: "local" };
  }

  /** Adds an operation behind the resource's others (inside the caller's transaction). */
  static enqueue(
    tx: Prisma.TransactionClient,
    resourceId: string,
    kind: OperationKind,
    params: Record<string, unknown> = {},
  ): Promise<Operation> {
    return tx.operation.create({ data: { resourceId, kind, params: params as Prisma.InputJsonValue } });
  }

  /** How many operations of the resource run or wait before this one. */
  static ahead(db: Database, operation: Operation): Promise<number> {
    return db.operation.count({
      where: { resourceId: operation.resourceId, seq: { lt: operation.seq }, status: { in: ["QUEUED", "RUNNING"] } },
    });
  }

  /**
   * Takes the next runnable operation, if the limit allows; undefined if none.
   * Fair across teams: among the runnable (nothing before them on their
   * resource), the team with the fewest RUNNING operations goes first, then
   * the oldest. One team's thousand queued refreshes thus wait their turn
   * behind another team's single create instead of ahead of it.
   */
  async claim(concurrency: number): Promise<Operation | undefined> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${claimLockKey})`;
      const running = await tx.operation.count({ where: { status: "RUNNING" } });
      if (running >= concurrency) return undefined;
      const [next] = await tx.$queryRaw<{ id: string }[]>`
        WITH busy AS (
          SELECT r.team_id, count(*) AS running FROM operations p JOIN resources r ON r.id = p.resource_id
          WHERE p.status = 'RUNNING' GROUP BY r.team_id
        )
        SELECT o.id FROM operations o
        JOIN resources r ON r.id = o.resource_id
        LEFT JOIN busy b ON b.team_id = r.team_id
        WHERE o.status = 'QUEUED'
          AND (r.target <> 'docker-host' OR r.docker_host_id IS NULL OR r.docker_host_id = ${this.placement.dockerHostId})
          AND NOT EXISTS (SELECT 1 FROM operations p
                          WHERE p.resource_id = o.resource_id AND p.seq < o.seq AND p.status IN ('QUEUED', 'RUNNING'))
        ORDER BY coalesce(b.running, 0), o.seq LIMIT 1`;
      if (!next) return undefined;
      const claimed = await tx.operation.update({
        where: { id: next.id },
        data: {
          status: "RUNNING",
          leaseOwner: this.owner,
          ranBy: this.placement.instanceId,
          leaseExpiresAt: this.leaseEnd(),
          startedAt: new Date(),
          attempts: { increment: 1 },
        },
      });
      // Its first operation places a docker-host resource on this worker's host, for good.
      await tx.resource.updateMany({
        where: { id: claimed.resourceId, target: "docker-host", dockerHostId: null },
        data: { dockerHostId: this.placement.dockerHostId },
      });
      return claimed;
    });
  }

  /**
   * Operations whose worker stopped renewing its lease: now this worker's to
   * recover. `except`: this worker's own runs still settling (a fenced run
   * must end before its operation is taken up again).
   */
  async reclaimExpired(except: string[] = []): Promise<Operation[]> {
    // Only what this worker's Docker host may run: another host's resource waits for a worker there.
    return this.db.$queryRaw<Operation[]>`
      UPDATE operations o SET lease_owner = ${this.owner}, lease_expires_at = ${this.leaseEnd()}, attempts = attempts + 1,
                              ran_by = ${this.placement.instanceId}
      FROM resources r
      WHERE r.id = o.resource_id AND o.status = 'RUNNING' AND o.lease_expires_at < now() AND NOT (o.id = ANY(${except}::uuid[]))
        AND (r.target <> 'docker-host' OR r.docker_host_id IS NULL OR r.docker_host_id = ${this.placement.dockerHostId})
      RETURNING o.id, o.seq, o.resource_id AS "resourceId", o.kind, o.status, o.params, o.attempts, o.error,
                o.lease_owner AS "leaseOwner", o.lease_expires_at AS "leaseExpiresAt", o.ran_by AS "ranBy",
                o.cancel_requested_at AS "cancelRequestedAt", o.created_at AS "createdAt",
                o.started_at AS "startedAt", o.finished_at AS "finishedAt"`;
  }

  /**
   * Renews the leases of `ids` that are still this worker's. `lost`: those
   * that are not (another worker took them over): their runs must stop now.
   * `cancelled`: those a client asked to cancel.
   */
  async heartbeat(ids: string[]): Promise<{ lost: string[]; cancelled: string[] }> {
    if (ids.length === 0) return { lost: [], cancelled: [] };
    const renewed = await this.db.$queryRaw<{ id: string; cancelled: boolean }[]>`
      UPDATE operations SET lease_expires_at = ${this.leaseEnd()}
      WHERE id = ANY(${ids}::uuid[]) AND lease_owner = ${this.owner} AND status = 'RUNNING'
      RETURNING id, cancel_requested_at IS NOT NULL AS cancelled`;
    const held = new Set(renewed.map((r) => r.id));
    return { lost: ids.filter((id) => !held.has(id)), cancelled: renewed.filter((r) => r.cancelled).map((r) => r.id) };
  }

  /** Records the end of a run; false (nothing written) if the lease is no longer this worker's. */
  async finish(id: string, status: Extract<OperationStatus, "SUCCEEDED" | "FAILED" | "CANCELLED">, error?: string): Promise<boolean> {
    const { count } = await this.db.operation.updateMany({
      where: { id, leaseOwner: this.owner, status: "RUNNING" },
      data: { status, error, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null },
    });
    return count === 1;
  }

  private leaseEnd(): Date {
    return new Date(Date.now() + this.leaseSeconds * 1000);
  }
}
