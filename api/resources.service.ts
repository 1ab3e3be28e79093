// The resources' business logic: validation past the schema (the template's
// own rules), quotas, idempotency, queueing operations, and the views the API
// returns. Requests never run Pulumi themselves: the worker does.
import { volumeUsage } from "./volume-usage.js";
import crypto from "node:crypto";
import { OperationQueue, stackName } from "../automation/index.js";
import { signalWorkers } from "../core/pg-listener.js";
import { unavailableTarget, type CloudSettings } from "../core/cloud-settings.js";
import type { ImageSet } from "../components/images.js";
import { ResourceStatuses } from "../core/resource-status.js";
import { prepareRequest } from "../components/templates/index.js";
import { TemplateInputError } from "../components/templates/request.js";
import { checkVersions, VersionConflictError, type Versions } from "../components/versions.js";
import type { Event, Operation, OperationKind, Prisma, Resource, Team } from "../prisma/generated/client.js";
import { MissingKeyError, type CredentialsCipher } from "../core/credentials-cipher.js";
import type { Database } from "../core/db.js";
import { fairUseDefaults, type FairUseLimits } from "../core/config.js";
import { ApiError, tooManyRequests } from "./errors.js";
import { budgetState, checkBudget } from "../core/budget.js";
import { monthlyEstimate, priceOf } from "../components/prices/index.js";
import { addUse, checkQuota, footprint, lockTeam, notifyQuotaCrossing, settleReservation, type Footprint } from "./quotas.js";
import type { CreateResourceBody, EventView, OperationView, ResourceView, UpdateResourceBody } from "./resources.schemas.js";
import type { RestoreFromBody } from "./backups.schemas.js";
import type { BackupService } from "./backups.service.js";

export interface Actor {
  team: Team;
  apiKeyId: string;
}

const notFound = () => new ApiError(404, "not_found", "no such resource");

/** What a client over a queue limit is told to wait: about one operation's run. */
export const queueRetryAfterSeconds = 30;

const pendingStatuses: Operation["status"][] = ["QUEUED", "RUNNING"];

/** `status`: 409 when the input is valid on its own but not for this resource (a PATCH's options). */
function inputError(error: unknown, status: 400 | 409 = 400): never {
  if (error instanceof TemplateInputError) {
    throw new ApiError(status, status === 400 ? "invalid_request" : "options_conflict", error.message, [
      { field: error.field, message: error.message.slice(error.field.length + 2) },
    ]);
  }
  throw error;
}

const uniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

/** Same body, same hash: keys sorted, so property order does not matter. */
function requestHash(body: unknown): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(canonical(body)))
    .digest("hex");
}

export function resourceView(resource: Resource & { team: Team }): ResourceView {
  return {
    id: resource.id,
    name: resource.name,
    template: resource.template,
    target: resource.target,
    size: resource.size,
    options: resource.options as Record<string, unknown>,
    versions: (resource.versions ?? {}) as Record<string, string>,
    status: resource.status,
    stage: resource.stage,
    progress: resource.progress,
    endpoint: resource.endpoint as Record<string, string> | null,
    configuration: resource.configuration as Record<string, unknown> | null,
    lastError: resource.lastError,
    drift: resource.drift as Record<string, unknown> | null,
    stack: stackName(resource),
    createdAt: resource.createdAt.toISOString(),
    updatedAt: resource.updatedAt.toISOString(),
    deletedAt: resource.deletedAt?.toISOString() ?? null,
    lastBackupAt: resource.lastBackupAt?.toISOString() ?? null,
    lastVerifiedRestoreAt: resource.lastVerifiedRestoreAt?.toISOString() ?? null,
  };
}

export function operationView(operation: Operation, ahead?: number): OperationView {
  return {
    id: operation.id,
    kind: operation.kind,
    status: operation.status,
    ...(ahead !== undefined && { ahead }),
    error: operation.error,
    createdAt: operation.createdAt.toISOString(),
    startedAt: operation.startedAt?.toISOString() ?? null,
    finishedAt: operation.finishedAt?.toISOString() ?? null,
  };
}

export function eventView(event: Event): EventView {
  return {
    id: event.id.toString(),
    operationId: event.operationId,
    stage: event.stage,
    progress: event.progress,
    message: event.message,
    detail: event.detail as Record<string, unknown> | null,
    createdAt: event.createdAt.toISOString(),
  };
}

export interface DockerHostPolicy {
  /** Why the local Docker host does not isolate resources from each other (then it serves one team only). */
  isolationProblem?: string;
}

export class ResourceService {
  constructor(
    private readonly db: Database,
    private readonly cipher: CredentialsCipher,
    private readonly images: ImageSet,
    private readonly cloud: CloudSettings,
    private readonly dockerHost: DockerHostPolicy = {},
    private readonly limits: FairUseLimits = fairUseDefaults,
    /** This machine's Docker host's projects folder: where the volumes' mounts are measured (api/volume-usage.ts). */
    private readonly projectsDir?: string,
    /** Restores from backups (restoreFrom); absent: refused. */
    private readonly backups?: BackupService,
    /** The clock budgets are judged by (tests inject one). */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async create(actor: Actor, body: CreateResourceBody, idempotencyKey?: string) {
    const hash = requestHash(body);
    if (idempotencyKey) {
      const replay = await this.replay(actor, idempotencyKey, hash);
      if (replay) return replay;
    }
    const unavailable = unavailableTarget(body.target, this.cloud);
    if (unavailable)
      throw new ApiError(400, "invalid_request", `target ${body.target} ${unavailable}`, [{ field: "target", message: unavailable }]);
    // The id is chosen here: the host-side names derive from it.
    const resourceId = crypto.randomUUID();
    const restoreFrom = "restoreFrom" in body && body.restoreFrom ? await this.restoreSource(actor, body) : undefined;
    let prepared;
    try {
      prepared = prepareRequest({
        template: body.template,
        name: body.name,
        team: actor.team.name,
        size: body.size,
        options: body.options,
        resourceId,
        ...(restoreFrom ? { restoreFrom } : {}),
      });
    } catch (error) {
      inputError(error);
    }
    const size = footprint(prepared, this.images);
    // The thresholds the month has reached are told (webhooks) before a create is judged: a refusal rolls its transaction back.
    await this.db.$transaction((tx) => checkBudget(tx, actor.team.id, this.clock()));
    try {
      const accepted = await this.db.$transaction(async (tx) => {
        await lockTeam(tx, actor.team.id);
        // A request with the same key may have committed while this one waited for the lock.
        if (
          idempotencyKey &&
          (await tx.idempotencyKey.findUnique({ where: { teamId_key: { teamId: actor.team.id, key: idempotencyKey } } }))
        ) {
          return undefined;
        }
        const used = await checkQuota(tx, actor.team, { resources: 1, ...size });
        await this.refuseOverBudget(tx, actor.team.id);
        await this.checkTeamQueue(tx, actor.team.id);
        if (body.target === "docker-host") await this.refuseSecondTeamWithoutIsolation(tx, actor);
        const taken = await tx.resource.findFirst({
          where: { teamId: actor.team.id, name: body.name, status: { not: "DELETED" } },
          select: { id: true },
        });
        if (taken)
          throw new ApiError(409, "name_taken", `the team already has a resource named ${body.name}`, [
            { field: "name", message: "is taken" },
          ]);
        const resource = await tx.resource.create({
          data: {
            id: resourceId,
            teamId: actor.team.id,
            name: prepared.name,
            hostName: prepared.project,
            template: prepared.template.id,
            target: body.target,
            size: prepared.size,
            options: prepared.options as Prisma.InputJsonValue,
            ...(restoreFrom ? { restoreFrom: restoreFrom } : {}),
            cpus: size.cpus,
            memoryMb: size.memoryMb,
            stage: "queued",
          },
          include: { team: true },
        });
        const operation = await OperationQueue.enqueue(tx, resource.id, "CREATE");
        await tx.event.create({
          data: { resourceId: resource.id, operationId: operation.id, stage: "queued", progress: 0, message: "queued" },
        });
        if (idempotencyKey)
          await tx.idempotencyKey.create({
            data: { teamId: actor.team.id, key: idempotencyKey, requestHash: hash, resourceId: resource.id, operationId: operation.id },
          });
        await this.audit(tx, actor, "resource.create", resource.id, { template: resource.template, size: resource.size });
        await notifyQuotaCrossing(tx, actor.team, used, addUse(used, { resources: 1, ...size }));
        return { resource, operation };
      });
      if (!accepted) return (await this.replay(actor, idempotencyKey!, hash))!;
      await signalWorkers(this.db, "work");
      const price = priceOf(actor.team.tier, prepared.template.id, prepared.size, prepared.options);
      return {
        resource: resourceView(accepted.resource),
        operation: operationView(accepted.operation, 0),
        queued: false,
        replayed: false,
        ...(price && { estimatedMonthlyCost: monthlyEstimate(price) }),
      };
    } catch (error) {
      // Two requests with the same new key at once: the loser answers as a replay.
      if (idempotencyKey && uniqueViolation(error)) {
        const replay = await this.replay(actor, idempotencyKey, hash);
        if (replay) return replay;
      }
      // The database's partial unique index backs the name check above.
      if (uniqueViolation(error))
        throw new ApiError(409, "name_taken", `the team already has a resource named ${body.name}`, [
          { field: "name", message: "is taken" },
        ]);
      throw error;
    }
  }

  /**
   * Over its month's budget, a team whose tier allows no overage creates
   * nothing: 403 naming the budget. In the create's transaction, after the
   * team's lock (two creates cannot both pass on the last cent).
   */
  private async refuseOverBudget(tx: Prisma.TransactionClient, teamId: string): Promise<void> {
    const team = await tx.team.findUniqueOrThrow({ where: { id: teamId }, select: { id: true, monthlyBudgetCents: true, tier: true } });
    if (team.monthlyBudgetCents === null) return;
    const state = await budgetState(tx, team, this.clock());
    if (!state.exceeded || state.overageAllowed) return;
    throw new ApiError(
      403,
      "budget_exceeded",
      `the month's cost (${state.costCents} cents) has reached the team's monthly budget (${state.budgetCents} cents); the ${team.tier} tier allows no overage`,
      [
        {
          field: "monthlyBudgetCents",
          message: `budget of ${state.budgetCents} cents reached in ${state.month} (${state.costCents} cents used)`,
        },
      ],
    );
  }

  async list(actor: Actor, query: { status?: Resource["status"]; template?: string; limit: number; cursor?: string }) {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.db.resource.findMany({
      where: {
        teamId: actor.team.id,
        ...(query.status && { status: query.status }),
        ...(query.template && { template: query.template }),
        ...(after && { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }),
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      resources: page.map((row) => resourceView({ ...row, team: actor.team })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  private async restoreSource(actor: Actor, body: CreateResourceBody) {
    const from = (body as { restoreFrom?: RestoreFromBody }).restoreFrom!;
    if (body.target !== "docker-host")
      throw new ApiError(400, "invalid_request", "restoreFrom works on the docker-host target", [
        { field: "target", message: "must be docker-host to restore from a backup" },
      ]);
    if (!this.backups)
      throw new ApiError(400, "invalid_request", "restores are not configured", [{ field: "restoreFrom", message: "not offered" }]);
    return this.backups.restoreSource(actor.team.id, from);
  }

  async get(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    const view = resourceView(resource);
    if (!this.projectsDir || resource.status === "DELETED") return view;
    const volumes = await volumeUsage(this.projectsDir, resource);
    return volumes.length ? { ...view, volumes } : view;
  }

  async credentials(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    if (!resource.credentialsCiphertext || !resource.credentialsKeyId) {
      throw new ApiError(409, "credentials_unavailable", `the resource has no credentials (status ${resource.status})`);
    }
    let credentials;
    try {
      credentials = this.cipher.open(resource.id, { keyId: resource.credentialsKeyId, ciphertext: resource.credentialsCiphertext });
    } catch (error) {
      if (!(error instanceof MissingKeyError)) throw error;
      throw new ApiError(
        409,
        "credentials_key_missing",
        `the credentials are encrypted with key ${error.keyId}, which the service no longer has; an operator must add it back to PROVISIONER_CREDENTIALS_KEYS (DELETE works without it)`,
      );
    }
    await this.audit(this.db, actor, "credentials.read", resource.id);
    return { credentials };
  }

  /**
   * PATCH: `size` and `options` change what the resource will be once the
   * operations already queued have run; options merge into those (a PATCH of
   * one option keeps the others). The quota reserves the larger of the old and
   * new footprint until the update has run (see settleReservation).
   */
  async update(actor: Actor, id: string, body: UpdateResourceBody) {
    const resource = await this.find(actor, id);
    return this.enqueue(actor, resource, "UPDATE", async (tx, locked, pending) => {
      const base = desiredAfter(locked, pending);
      let prepared;
      try {
        prepared = prepareRequest({
          template: locked.template,
          name: locked.name,
          team: actor.team.name,
          resourceId: locked.id,
          hostName: locked.hostName,
          size: body.size ?? base.size,
          options: { ...base.options, ...body.options },
        });
      } catch (error) {
        inputError(error, 409);
      }
      let versions: Versions = base.versions;
      try {
        if (body.versions) versions = checkVersions(locked.template, this.images, base.versions, body.versions);
      } catch (error) {
        inputError(error, error instanceof VersionConflictError ? 409 : 400);
      }
      const wanted = footprint(prepared, this.images);
      const reserved: Footprint = {
        cpus: Math.max(Number(locked.cpus), wanted.cpus),
        memoryMb: Math.max(locked.memoryMb, wanted.memoryMb),
      };
      const others = await checkQuota(tx, actor.team, { resources: 1, ...reserved }, locked.id);
      await tx.resource.update({ where: { id: locked.id }, data: reserved });
      const counted = { resources: 1, cpus: Number(locked.cpus), memoryMb: locked.memoryMb };
      await notifyQuotaCrossing(tx, actor.team, addUse(others, counted), addUse(others, { resources: 1, ...reserved }));
      return { size: prepared.size, options: prepared.options, versions, footprint: wanted };
    });
  }

  async refresh(actor: Actor, id: string) {
    return this.enqueue(actor, await this.find(actor, id), "REFRESH");
  }

  async remove(actor: Actor, id: string) {
    return this.enqueue(actor, await this.find(actor, id), "DELETE");
  }

  /**
   * Cancels the running operation, else the next queued one. Concurrent
   * cancels (or a claim in between) change the row under us: the conditional
   * updates find out, and the next attempt looks again.
   */
  async cancel(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const operation = await this.db.operation.findFirst({
        where: { resourceId: resource.id, status: { in: pendingStatuses } },
        orderBy: { seq: "asc" },
      });
      if (!operation) break;
      if (operation.status === "QUEUED") {
        const { count } = await this.db.operation.updateMany({
          where: { id: operation.id, status: "QUEUED" },
          data: { status: "CANCELLED", cancelRequestedAt: new Date(), finishedAt: new Date(), error: "cancelled before it started" },
        });
        if (count === 0) continue;
        await this.audit(this.db, actor, "operation.cancel", resource.id, { operationId: operation.id });
        if (operation.kind === "CREATE") {
          await new ResourceStatuses(this.db).markFailed(resource.id, "cancelled before it started");
        }
        if (operation.kind === "UPDATE") await settleReservation(this.db, this.images, resource.id);
        return { operation: operationView(await this.db.operation.findUniqueOrThrow({ where: { id: operation.id } })) };
      }
      const { count } = await this.db.operation.updateMany({
        where: { id: operation.id, status: "RUNNING" },
        data: { cancelRequestedAt: operation.cancelRequestedAt ?? new Date() },
      });
      if (count === 0) continue;
      await this.audit(this.db, actor, "operation.cancel", resource.id, { operationId: operation.id });
      await signalWorkers(this.db, "cancel");
      return { operation: operationView(await this.db.operation.findUniqueOrThrow({ where: { id: operation.id } })) };
    }
    throw new ApiError(409, "nothing_to_cancel", "the resource has no running or queued operation");
  }

  async events(actor: Actor, id: string, after = 0n, limit = 500) {
    const resource = await this.find(actor, id);
    return this.db.event.findMany({ where: { resourceId: resource.id, id: { gt: after } }, orderBy: { id: "asc" }, take: limit });
  }

  /** Whether `id` is 0 or an event id already handed out: a stream resuming after a later one would wait for ids that are no resume point of ours. */
  async eventIdIssued(id: bigint): Promise<boolean> {
    if (id === 0n) return true;
    const latest = await this.db.event.aggregate({ _max: { id: true } });
    return id <= (latest._max.id ?? 0n);
  }

  async operations(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    const operations = await this.db.operation.findMany({ where: { resourceId: resource.id }, orderBy: { seq: "asc" } });
    return { operations: operations.map((o) => operationView(o)) };
  }

  /** The caller's resource (DELETED ones keep their history); another team's is a 404 like a missing one. */
  async find(actor: Actor, id: string): Promise<Resource & { team: Team }> {
    const resource = await this.db.resource.findFirst({ where: { id, teamId: actor.team.id }, include: { team: true } });
    if (!resource) throw notFound();
    return resource;
  }

  /**
   * Queues an operation behind the resource's others. The resource's row is
   * locked meanwhile, so the order of the queue is the order requests were
   * accepted in: an UPDATE accepted before a DELETE runs before it, and none
   * is accepted after. A second DELETE answers with the first, a REFRESH
   * behind a queued REFRESH is that REFRESH, and the queue limits apply to
   * everything but DELETE (a team over its limits can still clean up).
   */
  private async enqueue(
    actor: Actor,
    resource: Resource & { team: Team },
    kind: OperationKind,
    params?: (tx: Prisma.TransactionClient, locked: Resource, pending: Operation[]) => Promise<Record<string, unknown>>,
  ) {
    const { operation, existing } = await this.db.$transaction(async (tx) => {
      await lockTeam(tx, actor.team.id);
      await tx.$executeRaw`SELECT id FROM resources WHERE id = ${resource.id}::uuid FOR UPDATE`;
      const locked = await tx.resource.findUniqueOrThrow({ where: { id: resource.id } });
      if (locked.status === "DELETED") throw new ApiError(409, "resource_deleted", "the resource is deleted");
      const pending = await tx.operation.findMany({
        where: { resourceId: resource.id, status: { in: pendingStatuses } },
        orderBy: { seq: "asc" },
      });
      const deleting = pending.find((o) => o.kind === "DELETE");
      if (deleting && kind === "DELETE") return { operation: deleting, existing: true };
      if (deleting) throw new ApiError(409, "resource_deleting", "the resource is being deleted");
      const last = pending.at(-1);
      if (kind === "REFRESH" && last?.kind === "REFRESH" && last.status === "QUEUED") return { operation: last, existing: true };
      if (kind !== "DELETE") {
        const queued = pending.filter((o) => o.status === "QUEUED").length;
        if (queued >= this.limits.queuedPerResource) {
          throw tooManyRequests(
            "queue_full",
            `the resource already has ${queued} queued operations (at most ${this.limits.queuedPerResource}); retry when some have run`,
            queueRetryAfterSeconds,
          );
        }
        await this.checkTeamQueue(tx, actor.team.id);
      }
      const values = (await params?.(tx, locked, pending)) ?? {};
      const queued = await OperationQueue.enqueue(tx, resource.id, kind, values);
      await this.audit(tx, actor, `resource.${kind.toLowerCase()}`, resource.id, values.size ? { size: values.size } : undefined);
      return { operation: queued, existing: false };
    });
    const ahead = await OperationQueue.ahead(this.db, operation);
    if (existing) {
      // DELETE is idempotent: a second one is a replay; a REFRESH merged into a queued one says so.
      return {
        resource: resourceView(resource),
        operation: operationView(operation, ahead),
        queued: operation.status === "QUEUED",
        replayed: kind === "DELETE",
        ...(kind === "REFRESH" && { merged: true }),
      };
    }
    if (ahead > 0) {
      await this.db.event.create({
        data: {
          resourceId: resource.id,
          operationId: operation.id,
          stage: "queued",
          progress: resource.progress,
          message: `${kind.toLowerCase()} queued behind ${ahead} operation(s)`,
        },
      });
    }
    await signalWorkers(this.db, "work");
    return { resource: resourceView(resource), operation: operationView(operation, ahead), queued: ahead > 0, replayed: false };
  }

  /** 429 once the team has its limit of queued operations (after lockTeam: two requests cannot both take the last place). */
  private async checkTeamQueue(tx: Prisma.TransactionClient, teamId: string): Promise<void> {
    const queued = await tx.operation.count({ where: { status: "QUEUED", resource: { teamId } } });
    if (queued >= this.limits.queuedPerTeam) {
      throw tooManyRequests(
        "queue_full",
        `the team already has ${queued} queued operations (at most ${this.limits.queuedPerTeam}); retry when some have run`,
        queueRetryAfterSeconds,
      );
    }
  }

  /** Without isolation between resources, a Docker host is safe for one team only: the first one to use it. */
  private async refuseSecondTeamWithoutIsolation(tx: Prisma.TransactionClient, actor: Actor) {
    const problem = this.dockerHost.isolationProblem;
    if (!problem) return;
    // Two teams' first creates must not both pass: one host-wide lock for the check.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('provisioner:docker-host:single-team'))`;
    const other = await tx.resource.findFirst({
      where: { target: "docker-host", status: { not: "DELETED" }, teamId: { not: actor.team.id } },
      select: { id: true },
    });
    if (other) {
      throw new ApiError(
        403,
        "isolation_unavailable",
        `this Docker host already serves another team and does not isolate resources (${problem})`,
        [{ field: "target", message: "this Docker host serves another team and cannot isolate yours from it" }],
      );
    }
  }

  private async replay(actor: Actor, key: string, hash: string) {
    const stored = await this.db.idempotencyKey.findUnique({ where: { teamId_key: { teamId: actor.team.id, key } } });
    if (!stored) return undefined;
    if (stored.requestHash !== hash) {
      throw new ApiError(409, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", [
        { field: "Idempotency-Key", message: "was used with another body" },
      ]);
    }
    const resource = await this.db.resource.findUniqueOrThrow({ where: { id: stored.resourceId }, include: { team: true } });
    const operation = await this.db.operation.findUniqueOrThrow({ where: { id: stored.operationId } });
    return { resource: resourceView(resource), operation: operationView(operation), queued: false, replayed: true };
  }

  private async audit(tx: Prisma.TransactionClient, actor: Actor, action: string, resourceId: string, detail?: Record<string, unknown>) {
    await tx.auditLog.create({
      data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, resourceId, action, detail: detail as Prisma.InputJsonValue | undefined },
    });
  }
}

function encodeCursor(resource: Resource): string {
  return `${resource.createdAt.getTime()}.${resource.id}`;
}

/** What the resource will be once its pending operations have run: the last pending UPDATE's size and options, else its own. */
function desiredAfter(resource: Resource, pending: Operation[]): { size: string; options: Record<string, unknown>; versions: Versions } {
  const update = pending.filter((o) => o.kind === "UPDATE").at(-1);
  const params = update?.params as { size?: string; options?: Record<string, unknown>; versions?: Versions } | undefined;
  return {
    size: params?.size ?? resource.size,
    options: params?.options ?? (resource.options as Record<string, unknown>),
    versions: params?.versions ?? (resource.versions as Versions),
  };
}

/** listResourcesQuery's pattern has checked the cursor's shape (cursorPattern). */
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = cursor.split(".");
  return { createdAt: new Date(Number(at)), id: id! };
}
