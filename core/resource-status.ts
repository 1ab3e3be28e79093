// The one owner of a resource's status. The runner, the API and the health
// monitor change it only through these named transitions; which moves are
// legal is written once, in `legalMoves`, and every move is checked by the
// database in the same UPDATE (a resource moved meanwhile is not overwritten).
import { Prisma, type ResourceStatus } from "../prisma/generated/client.js";

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

export class ResourceStatuses {
  constructor(private readonly db: Client) {}

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
    return this.move(id, "DELETED", {
      deletedAt: new Date(),
      endpoint: Prisma.DbNull,
      credentialsCiphertext: null,
      credentialsKeyId: null,
      lastError: null,
    });
  }

  /** An operation that changed nothing (drift refused it) puts back the status it found, with its reason. */
  restore(id: string, status: ResourceStatus, lastError: string) {
    return this.move(id, status, { lastError });
  }

  /**
   * The health monitor's move between ACTIVE and DEGRADED. Operations own the
   * status while they run: the move happens only if the resource is still
   * `from`, something changes, and no operation is queued or running, all in
   * one statement, so an operation claimed meanwhile wins. Returns whether it moved.
   */
  async healthMove(id: string, { from, to, lastError }: HealthMove): Promise<boolean> {
    if (!canMove(from, to)) throw new IllegalTransition(id, from, to);
    const changed = await this.db.$executeRaw`
      UPDATE resources SET status = ${to}::"ResourceStatus", last_error = ${lastError}, updated_at = now()
      WHERE id = ${id}::uuid AND status = ${from}::"ResourceStatus"
        AND (status <> ${to}::"ResourceStatus" OR last_error IS DISTINCT FROM ${lastError})
        AND NOT EXISTS (SELECT 1 FROM operations WHERE resource_id = ${id}::uuid AND status IN ('QUEUED', 'RUNNING'))`;
    return changed > 0;
  }

  /** Moves only from a status the table allows, in the same UPDATE; otherwise throws naming the status found. */
  private async move(id: string, to: ResourceStatus, data: Prisma.ResourceUpdateManyMutationInput = {}): Promise<void> {
    const { count } = await this.db.resource.updateMany({ where: { id, status: { in: sourcesOf(to) } }, data: { ...data, status: to } });
    if (count === 1) return;
    const found = await this.db.resource.findUnique({ where: { id }, select: { status: true } });
    throw new IllegalTransition(id, found?.status, to);
  }
}
