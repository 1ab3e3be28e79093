// The queue against the real database, no engine: which operation is claimed
// next, and what a worker whose lease was taken over may still write.
import crypto from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDatabase } from "../core/db.js";
import { TeamService } from "../api/teams.service.js";
import { discardUnfinishedOperations } from "../test/service-client.js";
import { OperationQueue } from "./operation-queue.js";

const db = createDatabase(process.env.DATABASE_URL!);

/** This file's teams: only their operations are discarded between tests. */
const teamIds: string[] = [];

async function newTeam(): Promise<string> {
  const { id } = (await new TeamService(db).create(`q${crypto.randomBytes(4).toString("hex")}`, "ENTERPRISE")).team;
  teamIds.push(id);
  return id;
}

async function newResources(teamId: string, count: number): Promise<string[]> {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: crypto.randomUUID(),
    teamId,
    name: `r${i}`,
    hostName: `q${crypto.randomBytes(6).toString("hex")}`,
    template: "small-storage",
    target: "docker-host",
    size: "small",
    cpus: 0.5,
    memoryMb: 512,
  }));
  await db.resource.createMany({ data: rows });
  return rows.map((r) => r.id);
}

describe("operation queue (real Postgres, no engine)", () => {
  beforeAll(async () => {
    // Nothing an interrupted earlier run queued may be claimed here.
    await discardUnfinishedOperations(db);
  });
  beforeEach(async () => {
    // Nor what an earlier test of this file left queued.
    await discardUnfinishedOperations(db, { teamIds });
  });
  afterAll(async () => {
    await discardUnfinishedOperations(db, { teamIds });
    await db.$disconnect();
  });

  it("one team's 1,000 queued refreshes do not delay another team's create: it is claimed second", async () => {
    const busy = await newTeam();
    const resources = await newResources(busy, 100);
    // Ten refreshes on each of the busy team's 100 resources, all older than the other team's create.
    await db.operation.createMany({
      data: Array.from({ length: 1000 }, (_, i) => ({ resourceId: resources[i % 100]!, kind: "REFRESH" as const })),
    });
    const quiet = await newTeam();
    const [newcomer] = await newResources(quiet, 1);
    const create = await db.operation.create({ data: { resourceId: newcomer!, kind: "CREATE" } });

    const queue = new OperationQueue(db, "fairness-test", 30);
    const claimed = [];
    for (let i = 0; i < 4; i++) claimed.push(await queue.claim(4));
    const teams = claimed.map((o) => (o!.resourceId === newcomer ? "quiet" : "busy"));
    // The busy team's oldest first (both teams run nothing), then the quiet team's: it runs nothing yet.
    expect(teams).toEqual(["busy", "quiet", "busy", "busy"]);
    expect(claimed[1]!.id).toBe(create.id);
    expect(await queue.claim(4)).toBeUndefined(); // the concurrency limit holds
  });

  it("still one operation at a time per resource, oldest first", async () => {
    const team = await newTeam();
    const [resource] = await newResources(team, 1);
    const first = await db.operation.create({ data: { resourceId: resource!, kind: "CREATE" } });
    await db.operation.create({ data: { resourceId: resource!, kind: "REFRESH" } });
    const queue = new OperationQueue(db, "order-test", 30);
    expect((await queue.claim(4))!.id).toBe(first.id);
    expect(await queue.claim(4)).toBeUndefined();
  });

  it("a lease another worker took over: the heartbeat reports it lost, and the old worker cannot record the end", async () => {
    const team = await newTeam();
    const [resource] = await newResources(team, 1);
    await db.operation.create({ data: { resourceId: resource!, kind: "CREATE" } });
    const mine = new OperationQueue(db, "worker-a", 30);
    const operation = (await mine.claim(4))!;
    expect(await mine.heartbeat([operation.id])).toEqual({ lost: [], cancelled: [] });

    // Worker B recovers it (worker A looked dead: its lease ran out).
    await db.operation.update({ where: { id: operation.id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    const theirs = new OperationQueue(db, "worker-b", 30);
    expect((await theirs.reclaimExpired()).map((o) => o.id)).toEqual([operation.id]);

    expect(await mine.heartbeat([operation.id])).toEqual({ lost: [operation.id], cancelled: [] });
    expect(await mine.finish(operation.id, "SUCCEEDED")).toBe(false);
    expect(await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "RUNNING",
      leaseOwner: "worker-b",
    });
    expect(await theirs.finish(operation.id, "SUCCEEDED")).toBe(true);
  });

  it("a worker does not reclaim its own expired operation while its run is still settling", async () => {
    const team = await newTeam();
    const [resource] = await newResources(team, 1);
    await db.operation.create({ data: { resourceId: resource!, kind: "CREATE" } });
    const queue = new OperationQueue(db, "worker-c", 30);
    const operation = (await queue.claim(4))!;
    await db.operation.update({ where: { id: operation.id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    expect(await queue.reclaimExpired([operation.id])).toEqual([]);
    expect((await queue.reclaimExpired([])).map((o) => o.id)).toEqual([operation.id]);
  });

  it("an operation on a Docker host's resource goes only to a worker of that host; a cloud resource's to any; each records its instance", async () => {
    const team = await newTeam();
    const [onA, unplaced, cloud] = await newResources(team, 3);
    await db.resource.update({ where: { id: onA! }, data: { dockerHostId: "host-a" } });
    await db.resource.update({ where: { id: cloud! }, data: { target: "hetzner" } });
    const forA = await db.operation.create({ data: { resourceId: onA!, kind: "REFRESH" } });
    const b = new OperationQueue(db, "worker-b1", 30, { instanceId: "instance-b", dockerHostId: "host-b" });
    const a = new OperationQueue(db, "worker-a1", 30, { instanceId: "instance-a", dockerHostId: "host-a" });

    // B reaches host-b only: host-a's operation is not its to run, nor to recover.
    expect(await b.claim(10)).toBeUndefined();
    const claimedByA = (await a.claim(10))!;
    expect(claimedByA).toMatchObject({ id: forA.id, ranBy: "instance-a" });
    await db.operation.update({ where: { id: forA.id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    expect(await b.reclaimExpired()).toEqual([]);
    expect((await a.reclaimExpired()).map((o) => [o.id, o.ranBy])).toEqual([[forA.id, "instance-a"]]);

    // A resource's first operation places it on the host of the worker that claims it.
    await db.operation.create({ data: { resourceId: unplaced!, kind: "CREATE" } });
    expect((await b.claim(10))!).toMatchObject({ resourceId: unplaced, ranBy: "instance-b" });
    expect((await db.resource.findUniqueOrThrow({ where: { id: unplaced! } })).dockerHostId).toBe("host-b");

    // A cloud resource runs anywhere, and is placed on no Docker host.
    await db.operation.create({ data: { resourceId: cloud!, kind: "CREATE" } });
    expect((await b.claim(10))!).toMatchObject({ resourceId: cloud, ranBy: "instance-b" });
    expect((await db.resource.findUniqueOrThrow({ where: { id: cloud! } })).dockerHostId).toBeNull();
  });
});
