// The one owner of a resource's status. The runner, the API and the health
// monitor change it only through these named transitions; which moves are
// legal is written once, in `legalMoves`, and every move is checked by the
// database in the same UPDATE (a resource moved meanwhile is not overwritten).
// A move that is an event for the team's webhooks (core/notifications.ts:
// ACTIVE, FAILED, DEGRADED, recovered, DELETED) queues it in the same
// transaction, so every owner of a status change notifies without knowing it.
// Every move also keeps the resource's usage segments in step (core/metering.ts:
// the first ACTIVE starts billing, a resize's ACTIVE starts a new segment,
// DELETED ends it), in the same transaction: metering cannot miss or repeat a move.
import { Prisma, type PrismaClient, type ResourceStatus } from "../prisma/generated/client.js";
import { meterMove } from "./metering.js";
import { eventOfMove, notify } from "./notifications.js";

/** From each status, the statuses a resource may move to. DELETED is final. */
export const legalMoves: Record<ResourceStatus, readonly ResourceStatus[]> = {
  // A create runs (again after an interruption), ends ACTIVE or FAILED; a DELETE may follow an operation the worker could not finish.
  PROVISIONING: ["PROVISIONING", "ACTIVE", "FAILED", "DELETING"],
  // An update ends ACTIVE or FAILED, or goes back to where it started when the stack was changed outside the service.
  UPDATING: ["UPDATING", "ACTIVE", "DEGRADED", "FAILED", "PROVISIONING", "DELETING"],
  ACTIVE: ["UPDATING", "DEGRADED", "FAILED", "DELETING"],
  // The health monitor restates a DEGRADED resource when its failing components change.
  DEGRADED: ["DEGRADED", "ACTIVE", "UPDATING", "FAILED", "DELETING"],
  // A failed operation may fail again (a refresh, an abandoned retry); PATCH or DELETE recovers.
  FAILED: ["FAILED", "UPDATING", "DELETING"],
  DELETING: ["DELETING", "DELETED", "FAILED"],
  DELETED: [],
};

export const canMove = (from: ResourceStatus, to: ResourceStatus): boolean => legalMoves[from].includes(to);

/** The statuses a resource may move to `to` from. */
export const sourcesOf = (to: ResourceStatus): ResourceStatus[] =>
  (Object.keys(legalMoves) as ResourceStatus[]).filter((from) => canMove(from, to));

export class IllegalTransition extends Error {
  constructor(
    readonly resourceId: string,
    readonly from: ResourceStatus | undefined,
    readonly to: ResourceStatus,
  ) {
    super(`resource ${resourceId} cannot move from ${from ?? "(missing)"} to ${to}`);
  }
}

/** What a deployment that ends ACTIVE records with the status. */
export type DeploymentRecord = Omit<Prisma.ResourceUpdateManyMutationInput, "status" | "lastError" | "deletedAt">;

/** The health monitor's observations: a resource it found `from` moves to `to` with this reason. */
export interface HealthMove {
  from: "ACTIVE" | "DEGRADED";
  to: "ACTIVE" | "DEGRADED";
  lastError: string | null;
}

type Client = Prisma.TransactionClient;

/** The resource as a notification names it, read with its status under the row's lock. */
interface Moving {
  status: ResourceStatus;
  team_id: string;
  name: string;
  template: string;
}

export class ResourceStatuses {
  constructor(
    private readonly db: Client,
    /** When moves happen (metering's timestamps); tests inject one. */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  markProvisioning(id: string) {
    return this.move(id, "PROVISIONING");
  }

  markUpdating(id: string) {
    return this.move(id, "UPDATING");
  }

  /** A deployment succeeded: the resource is ACTIVE with what was deployed, and its last error is cleared. */
  markActive(id: string, deployment: DeploymentRecord = {}) {
    return this.move(id, "ACTIVE", { ...deployment, lastError: null });
  }

  markFailed(id: string, lastError: string) {
    return this.move(id, "FAILED", { lastError });
  }

  markDeleting(id: string) {
    return this.move(id, "DELETING");
  }

  /** Gone: the endpoint and credentials go with it. */
  markDeleted(id: string) {
    // One instant for the row's deletedAt and the end of its usage segment.
    const at = this.clock();
    return this.move(
      id,
      "DELETED",
      {
        deletedAt: at,
        endpoint: Prisma.DbNull,
        credentialsCiphertext: null,
        credentialsKeyId: null,
        lastError: null,
      },
      { at },
    );
  }

  /** An operation that changed nothing (drift refused it) puts back the status it found, with its reason. */
  restore(id: string, status: ResourceStatus, lastError: string) {
    // Nothing happened to the resource: no event (UPDATING back to ACTIVE is no news).
    return this.move(id, status, { lastError }, { silent: true });
  }

  /**
   * The health monitor's move between ACTIVE and DEGRADED. Operations own the
   * status while they run: the move happens only if the resource is still
   * `from`, something changes, and no operation is queued or running, all in
   * one statement, so an operation claimed meanwhile wins. Returns whether it moved.
   */
  async healthMove(id: string, { from, to, lastError }: HealthMove): Promise<boolean> {
    if (!canMove(from, to)) throw new IllegalTransition(id, from, to);
    return this.atomically(async (db) => {
      const moved = await db.$queryRaw<Omit<Moving, "status">[]>`
        UPDATE resources SET status = ${to}::"ResourceStatus", last_error = ${lastError}, updated_at = now()
        WHERE id = ${id}::uuid AND status = ${from}::"ResourceStatus"
          AND (status <> ${to}::"ResourceStatus" OR last_error IS DISTINCT FROM ${lastError})
          AND NOT EXISTS (SELECT 1 FROM operations WHERE resource_id = ${id}::uuid AND status IN ('QUEUED', 'RUNNING'))
        RETURNING team_id::text, name, template`;
      if (moved.length === 0) return false;
      await meterMove(db, id, to, this.clock());
      await this.notifyMove(db, id, { ...moved[0]!, status: from }, to, lastError);
      return true;
    });
  }

  /**
   * Moves only from a status the table allows; otherwise throws naming the
   * status found. The row is locked while it is read, so the status moved
   * from is exact (the event says it) and nobody moves it in between.
   */
  private async move(
    id: string,
    to: ResourceStatus,
    data: Prisma.ResourceUpdateManyMutationInput = {},
    { silent = false, at }: { silent?: boolean; at?: Date } = {},
  ): Promise<void> {
    await this.atomically(async (db) => {
      const [found] = await db.$queryRaw<Moving[]>`
        SELECT status, team_id::text, name, template FROM resources WHERE id = ${id}::uuid FOR UPDATE`;
      if (!found || !canMove(found.status, to)) throw new IllegalTransition(id, found?.status, to);
      await db.resource.updateMany({ where: { id, status: found.status }, data: { ...data, status: to } });
      await meterMove(db, id, to, at ?? this.clock());
      if (!silent) await this.notifyMove(db, id, found, to, typeof data.lastError === "string" ? data.lastError : null);
    });
  }

  private async notifyMove(db: Client, id: string, found: Moving, to: ResourceStatus, reason: string | null): Promise<void> {
    const type = eventOfMove(found.status, to);
    if (!type) return;
    await notify(db, {
      teamId: found.team_id,
      type,
      data: {
        resource: { id, name: found.name, template: found.template, status: to },
        previousStatus: found.status,
        ...(reason !== null && { reason }),
      },
    });
  }

  /** In the caller's transaction when this was made with one, else in a transaction of its own. */
  private atomically<T>(work: (db: Client) => Promise<T>): Promise<T> {
    const db = this.db as Client & Partial<Pick<PrismaClient, "$transaction">>;
    return db.$transaction ? db.$transaction((tx) => work(tx)) : work(this.db);
  }
}
