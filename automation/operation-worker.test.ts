// Lease fencing with the real queue (Postgres) and real processes standing in
// for the engine: they carry the operation id in their environment as the
// Pulumi CLI and its plugins do, so the worker finds and kills them the same
// way. The runner is a stand-in (no Pulumi): what is under test is when the
// worker stops an engine and when it lets a run touch the stack.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDatabase } from "../core/db.js";
import { resolveImages } from "../components/images.js";
import { settleReservation } from "../api/quotas.js";
import { TeamService } from "../api/teams.service.js";
import type { Operation } from "../prisma/generated/client.js";
import { discardUnfinishedOperations } from "../test/service-client.js";
import { LeaseLost, leaseLost, OperationQueue } from "./operation-queue.js";
import type { OperationRunner, RunContext, RunResult } from "./operation-runner.js";
import { OperationWorker } from "./operation-worker.js";
import { operationMarker } from "./process-killer.js";
import { storedResource } from "../test/rows.js";

const db = createDatabase(process.env.DATABASE_URL!);
const logger = pino({ level: "silent" });
const leaseSeconds = 3;

/** A process of the operation, as the engine's are: found by the marker in its environment. */
function engineProcess(operationId: string): { child: ChildProcess; exited: Promise<{ signal: NodeJS.Signals | null; at: number }> } {
  const child = spawn("sleep", ["600"], { env: { ...process.env, [operationMarker]: operationId }, stdio: "ignore" });
  const exited = new Promise<{ signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (_code, signal) => resolve({ signal, at: Date.now() })),
  );
  return { child, exited };
}

/** Runs "the engine" until it exits or the run is aborted; records how it was called. */
class EngineStandIn {
  readonly calls: { operation: Operation; context: RunContext; at: number }[] = [];
  readonly children: ChildProcess[] = [];
  result: RunResult = { status: "SUCCEEDED" };
  /** The test is over: runs end at once. */
  closed = false;

  async run(operation: Operation, context: RunContext): Promise<RunResult> {
    this.calls.push({ operation, context, at: Date.now() });
    if (this.closed) return { status: "FAILED", error: "test over" };
    const { child, exited } = engineProcess(operation.id);
    this.children.push(child);
    await exited;
    return context.signal.aborted ? { status: "CANCELLED" } : this.result;
  }

  abandon(): Promise<RunResult> {
    return Promise.resolve({ status: "FAILED", error: "abandoned" });
  }
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** This file's teams: only their operations are discarded between tests. */
const teamIds: string[] = [];

async function queuedOperation(
  kind: "CREATE" | "UPDATE" = "CREATE",
  resource: Partial<{ size: string; cpus: number; memoryMb: number }> = {},
) {
  const team = (await new TeamService(db).create(`w${crypto.randomBytes(4).toString("hex")}`, "PRO")).team;
  teamIds.push(team.id);
  const created = await storedResource(db, team.id, { name: "fenced", ...resource });
  return { resource: created, operation: await db.operation.create({ data: { resourceId: created.id, kind } }) };
}

describe("operation worker: lease fencing (real Postgres, real processes, engine stand-in)", () => {
  const workers: OperationWorker[] = [];
  let engine: EngineStandIn;

  const startWorker = (owner: string, settle?: (operation: Operation) => Promise<void>) => {
    const worker = new OperationWorker(
      new OperationQueue(db, owner, leaseSeconds),
      engine as unknown as OperationRunner,
      logger,
      { concurrency: 1, leaseSeconds, cancelTimeoutSeconds: 5, pollMs: 100 },
      undefined,
      settle,
    );
    workers.push(worker);
    worker.start();
    return worker;
  };

  beforeAll(async () => {
    // Nothing an interrupted earlier run queued may be claimed here.
    await discardUnfinishedOperations(db);
  });
  beforeEach(async () => {
    await discardUnfinishedOperations(db, { teamIds });
    engine = new EngineStandIn();
  });
  afterEach(async () => {
    engine.closed = true;
    for (const child of engine.children) child.kill("SIGKILL");
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  afterAll(async () => {
    await discardUnfinishedOperations(db, { teamIds });
    await db.$disconnect();
  });

  it("a worker whose lease another worker took over kills its engine at once and records nothing for the run", async () => {
    const { operation } = await queuedOperation();
    const worker = startWorker("worker-a");
    await eventually(() => (engine.children.length === 1 ? true : undefined));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => engine.children[0]!.once("exit", (_c, signal) => resolve(signal)));

    // Another worker took the operation over (as after worker-a looked dead).
    await db.operation.update({ where: { id: operation.id }, data: { leaseOwner: "worker-b" } });
    await worker.heartbeat();

    expect(await exited).toBe("SIGKILL");
    const reason = leaseLost(engine.calls[0]!.context.signal)!;
    expect(reason).toBeInstanceOf(LeaseLost);
    // Stopped by that heartbeat's answer, not later for want of renewals.
    expect(reason.message).toMatch(/another worker holds it$/);
    await eventually(() => (worker.inFlight === 0 ? true : undefined));
    expect(await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "RUNNING",
      leaseOwner: "worker-b",
      finishedAt: null,
    });
  });

  it("a run being cancelled when its lease is lost is fenced all the same: killed, marked lease-lost, nothing recorded", async () => {
    const { operation } = await queuedOperation();
    const worker = startWorker("worker-cancelling");
    await eventually(() => (engine.children.length === 1 ? true : undefined));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => engine.children[0]!.once("exit", (_c, signal) => resolve(signal)));
    await db.operation.update({ where: { id: operation.id }, data: { cancelRequestedAt: new Date() } });
    await worker.heartbeat(); // the graceful cancel: the signal aborts, the engine may finish its step
    expect(engine.calls[0]!.context.signal.aborted).toBe(true);

    await db.operation.update({ where: { id: operation.id }, data: { leaseOwner: "worker-b" } });
    await worker.heartbeat();
    expect(await exited).toBe("SIGKILL");
    expect(leaseLost(engine.calls[0]!.context.signal)?.message).toMatch(/another worker holds it$/);
    await eventually(() => (worker.inFlight === 0 ? true : undefined));
    expect(await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "RUNNING",
      leaseOwner: "worker-b",
    });
  });

  it("a worker that cannot renew its lease (database failure simulated) kills its engine once the lease runs out, before another may touch the stack", async () => {
    const { operation } = await queuedOperation();
    const queue = new OperationQueue(db, "worker-unreachable", leaseSeconds);
    let reachable = true;
    let renewing = 0;
    const heartbeat = queue.heartbeat.bind(queue);
    queue.heartbeat = (ids) => {
      if (!reachable) return Promise.reject(new Error("connection refused (simulated)"));
      renewing++;
      return heartbeat(ids).finally(() => renewing--);
    };
    const worker = new OperationWorker(queue, engine as unknown as OperationRunner, logger, {
      concurrency: 1,
      leaseSeconds,
      cancelTimeoutSeconds: 5,
      pollMs: 100,
    });
    workers.push(worker);
    worker.start();
    await eventually(() => (engine.children.length === 1 ? true : undefined));
    const exited = new Promise<number>((resolve) => engine.children[0]!.once("exit", () => resolve(Date.now())));
    reachable = false;
    await eventually(() => (renewing === 0 ? true : undefined));
    // The lease as the database holds it, renewed for the last time.
    const leaseEnd = (await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).leaseExpiresAt!.getTime();

    const killedAt = await exited;
    // Not while the lease held; and before a worker that took it over at its expiry has waited a lease out.
    expect(killedAt).toBeGreaterThanOrEqual(leaseEnd);
    expect(killedAt).toBeLessThan(leaseEnd + leaseSeconds * 1000);
    expect(leaseLost(engine.calls[0]!.context.signal)).toBeInstanceOf(LeaseLost);
  });

  it("recovery kills the interrupted run's processes on this machine and waits out a lease before the run touches the stack", async () => {
    const { operation } = await queuedOperation();
    // A worker died mid-run: its lease ran out, its engine still runs here.
    await db.operation.update({
      where: { id: operation.id },
      data: {
        status: "RUNNING",
        leaseOwner: "dead-worker",
        leaseExpiresAt: new Date(Date.now() - 1000),
        attempts: 1,
        startedAt: new Date(),
      },
    });
    const orphan = engineProcess(operation.id);

    startWorker("recovering-worker");
    const { signal, at: killedAt } = await orphan.exited;
    expect(signal).toBe("SIGKILL");
    const call = await eventually(() => engine.calls[0], 30_000);
    expect(call.context.recovering).toBe(true);
    // The old engine is gone and a whole lease has passed before the stack is unlocked (in the run).
    expect(call.at - killedAt).toBeGreaterThanOrEqual(leaseSeconds * 1000 - 100);
  });

  it("a failed UPDATE restores the quota accounting to what runs", async () => {
    const images = resolveImages({});
    // The PATCH to large reserved 2 CPUs; what runs is still small: its node (0.5 CPU, 1 GB) and RPC guard (0.25 CPU, 128 MB).
    const { resource, operation } = await queuedOperation("UPDATE", { cpus: 2, memoryMb: 2048 });
    await db.operation.update({ where: { id: operation.id }, data: { params: { size: "large", footprint: { cpus: 2, memoryMb: 2048 } } } });
    engine.result = { status: "FAILED", error: "failed (stand-in)" };
    startWorker("settling-worker", async (o) => {
      if (o.kind === "UPDATE") await settleReservation(db, images, o.resourceId, o.id);
    });
    await eventually(() => (engine.children.length === 1 ? true : undefined));
    engine.children[0]!.kill("SIGTERM"); // the engine ends (the update failed)
    await eventually(async () =>
      (await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).status === "FAILED" ? true : undefined,
    );
    const settled = await db.resource.findUniqueOrThrow({ where: { id: resource.id } });
    expect({ cpus: Number(settled.cpus), memoryMb: settled.memoryMb }).toEqual({ cpus: 0.75, memoryMb: 1152 });
  });
});
