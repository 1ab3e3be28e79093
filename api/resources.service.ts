// The resources' business logic: validation past the schema (the template's
// own rules), quotas, idempotency, queueing operations, and the views the API
// returns. Requests never run Pulumi themselves: the worker does.
import crypto from "node:crypto";
import { OperationQueue } from "../automation/operation-queue.js";
import { signalWorkers } from "../automation/pg-listener.js";
import { stackName } from "../automation/operation-runner.js";
import { unavailableTarget, type CloudSettings } from "../automation/cloud-settings.js";
import type { ImageSet } from "../components/images.js";
import { ResourceStatuses } from "../core/resource-status.js";
import { prepareRequest } from "../components/templates/index.js";
import { TemplateInputError } from "../components/templates/request.js";
import type { Event, Operation, OperationKind, Prisma, Resource, Team } from "../prisma/generated/client.js";
import type { CredentialsCipher } from "./credentials-cipher.js";
import type { Database } from "./db.js";
import { ApiError } from "./errors.js";
import { checkQuota, footprint, lockTeam } from "./quotas.js";
import type { CreateResourceBody, UpdateResourceBody } from "./resources.schemas.js";

export interface Actor {
  team: Team;
  apiKeyId: string;
}


const notFound = () => new ApiError(404, "not_found", "no such resource");

function inputError(error: unknown): never {
  if (error instanceof TemplateInputError) throw new ApiError(400, "invalid_request", error.message, [{ field: error.field, message: error.message.slice(error.field.length + 2) }]);
  throw error;
}

const uniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

/** Same body, same hash: keys sorted, so property order does not matter. */
function requestHash(body: unknown): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]))
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  return crypto.createHash("sha256").update(JSON.stringify(canonical(body))).digest("hex");
}

export function resourceView(resource: Resource & { team: Team }) {
  return {
    id: resource.id,
    name: resource.name,
    template: resource.template,
    target: resource.target,
    size: resource.size,
    options: resource.options as Record<string, unknown>,
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
  };
}

export function operationView(operation: Operation, ahead?: number) {
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

export function eventView(event: Event) {
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
  ) {}

  async create(actor: Actor, body: CreateResourceBody, idempotencyKey?: string) {
    const hash = requestHash(body);
    if (idempotencyKey) {
      const replay = await this.replay(actor, idempotencyKey, hash);
      if (replay) return replay;
    }
    const unavailable = unavailableTarget(body.target, this.cloud);
    if (unavailable) throw new ApiError(400, "invalid_request", `target ${body.target} ${unavailable}`, [{ field: "target", message: unavailable }]);
    // The id is chosen here: the host-side names derive from it.
    const resourceId = crypto.randomUUID();
    let prepared;
    try {
      prepared = prepareRequest({ template: body.template, name: body.name, team: actor.team.name, size: body.size, options: body.options, resourceId });
    } catch (error) {
      inputError(error);
    }
    const size = footprint(prepared, this.images);
    try {
      const accepted = await this.db.$transaction(async (tx) => {
        await lockTeam(tx, actor.team.id);
        // A request with the same key may have committed while this one waited for the lock.
        if (idempotencyKey && (await tx.idempotencyKey.findUnique({ where: { teamId_key: { teamId: actor.team.id, key: idempotencyKey } } }))) {
          return undefined;
        }
        await checkQuota(tx, actor.team, { resources: 1, ...size });
        if (body.target === "docker-host") await this.refuseSecondTeamWithoutIsolation(tx, actor);
        const taken = await tx.resource.findFirst({ where: { teamId: actor.team.id, name: body.name, status: { not: "DELETED" } }, select: { id: true } });
        if (taken) throw new ApiError(409, "name_taken", `the team already has a resource named ${body.name}`, [{ field: "name", message: "is taken" }]);
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
            cpus: size.cpus,
            memoryMb: size.memoryMb,
            stage: "queued",
          },
          include: { team: true },
        });
        const operation = await OperationQueue.enqueue(tx, resource.id, "CREATE");
        await tx.event.create({ data: { resourceId: resource.id, operationId: operation.id, stage: "queued", progress: 0, message: "queued" } });
        if (idempotencyKey) await tx.idempotencyKey.create({ data: { teamId: actor.team.id, key: idempotencyKey, requestHash: hash, resourceId: resource.id, operationId: operation.id } });
        await this.audit(tx, actor, "resource.create", resource.id, { template: resource.template, size: resource.size });
        return { resource, operation };
      });
      if (!accepted) return (await this.replay(actor, idempotencyKey!, hash))!;
      await signalWorkers(this.db, "work");
      return { resource: resourceView(accepted.resource), operation: operationView(accepted.operation, 0), queued: false, replayed: false };
    } catch (error) {
      // Two requests with the same new key at once: the loser answers as a replay.
      if (idempotencyKey && uniqueViolation(error)) {
        const replay = await this.replay(actor, idempotencyKey, hash);
        if (replay) return replay;
      }
      // The database's partial unique index backs the name check above.
      if (uniqueViolation(error)) throw new ApiError(409, "name_taken", `the team already has a resource named ${body.name}`, [{ field: "name", message: "is taken" }]);
      throw error;
    }
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
    return { resources: page.map((row) => resourceView({ ...row, team: actor.team })), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  async get(actor: Actor, id: string) {
    return resourceView(await this.find(actor, id));
  }

  async credentials(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    if (!resource.credentialsCiphertext || !resource.credentialsKeyId) {
      throw new ApiError(409, "credentials_unavailable", `the resource has no credentials (status ${resource.status})`);
    }
    const credentials = this.cipher.open(resource.id, { keyId: resource.credentialsKeyId, ciphertext: resource.credentialsCiphertext });
    await this.audit(this.db, actor, "credentials.read", resource.id);
    return { credentials };
  }

  async update(actor: Actor, id: string, body: UpdateResourceBody) {
    const resource = await this.find(actor, id);
    let prepared;
    try {
      prepared = prepareRequest({
        template: resource.template,
        name: resource.name,
        team: actor.team.name,
        resourceId: resource.id,
        hostName: resource.hostName,
        size: body.size ?? resource.size,
        options: body.options ?? resource.options,
      });
    } catch (error) {
      inputError(error);
    }
    const size = footprint(prepared, this.images);
    return this.enqueue(actor, resource, "UPDATE", { size: prepared.size, options: prepared.options }, async (tx) => {
      await lockTeam(tx, actor.team.id);
      await checkQuota(tx, actor.team, { resources: 1, ...size }, resource.id);
      await tx.resource.update({ where: { id: resource.id }, data: { cpus: size.cpus, memoryMb: size.memoryMb } });
    });
  }

  async refresh(actor: Actor, id: string) {
    return this.enqueue(actor, await this.find(actor, id), "REFRESH");
  }

  async remove(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    const pending = await this.db.operation.findFirst({ where: { resourceId: resource.id, kind: "DELETE", status: { in: ["QUEUED", "RUNNING"] } } });
    if (pending) {
      // DELETE is idempotent: a second one answers with the first.
      return { resource: resourceView(resource), operation: operationView(pending, await OperationQueue.ahead(this.db, pending)), queued: pending.status === "QUEUED", replayed: true };
    }
    return this.enqueue(actor, resource, "DELETE");
  }

  /** Cancels the running operation, else the next queued one. */
  async cancel(actor: Actor, id: string) {
    const resource = await this.find(actor, id);
    const operation = await this.db.operation.findFirst({ where: { resourceId: resource.id, status: { in: ["RUNNING", "QUEUED"] } }, orderBy: { seq: "asc" } });
    if (!operation) throw new ApiError(409, "nothing_to_cancel", "the resource has no running or queued operation");
    await this.audit(this.db, actor, "operation.cancel", resource.id, { operationId: operation.id });
    if (operation.status === "QUEUED") {
      const cancelled = await this.db.operation.update({
        where: { id: operation.id, status: "QUEUED" },
        data: { status: "CANCELLED", cancelRequestedAt: new Date(), finishedAt: new Date(), error: "cancelled before it started" },
      });
      if (operation.kind === "CREATE") {
        await new ResourceStatuses(this.db).markFailed(resource.id, "cancelled before it started");
      }
      return { operation: operationView(cancelled) };
    }
    const cancelling = await this.db.operation.update({ where: { id: operation.id }, data: { cancelRequestedAt: new Date() } });
    await signalWorkers(this.db, "cancel");
    return { operation: operationView(cancelling) };
  }

  async events(actor: Actor, id: string, after = 0n, limit = 500) {
    const resource = await this.find(actor, id);
    return this.db.event.findMany({ where: { resourceId: resource.id, id: { gt: after } }, orderBy: { id: "asc" }, take: limit });
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

  private async enqueue(actor: Actor, resource: Resource & { team: Team }, kind: OperationKind, params: Record<string, unknown> = {}, inTransaction?: (tx: Prisma.TransactionClient) => Promise<void>) {
    if (resource.status === "DELETED") throw new ApiError(409, "resource_deleted", "the resource is deleted");
    const operation = await this.db.$transaction(async (tx) => {
      const deleting = await tx.operation.findFirst({ where: { resourceId: resource.id, kind: "DELETE", status: { in: ["QUEUED", "RUNNING"] } } });
      if (deleting) throw new ApiError(409, "resource_deleting", "the resource is being deleted");
      await inTransaction?.(tx);
      const queued = await OperationQueue.enqueue(tx, resource.id, kind, params);
      await this.audit(tx, actor, `resource.${kind.toLowerCase()}`, resource.id, params.size ? { size: params.size } : undefined);
      return queued;
    });
    const ahead = await OperationQueue.ahead(this.db, operation);
    if (ahead > 0) {
      await this.db.event.create({ data: { resourceId: resource.id, operationId: operation.id, stage: "queued", progress: resource.progress, message: `${kind.toLowerCase()} queued behind ${ahead} operation(s)` } });
    }
    await signalWorkers(this.db, "work");
    return { resource: resourceView(resource), operation: operationView(operation, ahead), queued: ahead > 0, replayed: false };
  }

  /** Without isolation between resources, a Docker host is safe for one team only: the first one to use it. */
  private async refuseSecondTeamWithoutIsolation(tx: Prisma.TransactionClient, actor: Actor) {
    const problem = this.dockerHost.isolationProblem;
    if (!problem) return;
    // Two teams' first creates must not both pass: one host-wide lock for the check.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('provisioner:docker-host:single-team'))`;
    const other = await tx.resource.findFirst({ where: { target: "docker-host", status: { not: "DELETED" }, teamId: { not: actor.team.id } }, select: { id: true } });
    if (other) {
      throw new ApiError(403, "isolation_unavailable", `this Docker host already serves another team and does not isolate resources (${problem})`, [
        { field: "target", message: "this Docker host serves another team and cannot isolate yours from it" },
      ]);
    }
  }

  private async replay(actor: Actor, key: string, hash: string) {
    const stored = await this.db.idempotencyKey.findUnique({ where: { teamId_key: { teamId: actor.team.id, key } } });
    if (!stored) return undefined;
    if (stored.requestHash !== hash) {
      throw new ApiError(409, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", [{ field: "Idempotency-Key", message: "was used with another body" }]);
    }
    const resource = await this.db.resource.findUniqueOrThrow({ where: { id: stored.resourceId }, include: { team: true } });
    const operation = await this.db.operation.findUniqueOrThrow({ where: { id: stored.operationId } });
    return { resource: resourceView(resource), operation: operationView(operation), queued: false, replayed: true };
  }

  private async audit(tx: Prisma.TransactionClient, actor: Actor, action: string, resourceId: string, detail?: Record<string, unknown>) {
    await tx.auditLog.create({ data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, resourceId, action, detail: detail as Prisma.InputJsonValue | undefined } });
  }
}

function encodeCursor(resource: Resource): string {
  return Buffer.from(`${resource.createdAt.toISOString()}|${resource.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(at ?? "");
  if (!id || Number.isNaN(createdAt.getTime())) throw new ApiError(400, "invalid_request", "invalid query: cursor is not a cursor this API returned", [{ field: "query.cursor", message: "is not valid" }]);
  return { createdAt, id };
}
