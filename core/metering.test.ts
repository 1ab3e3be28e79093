// Metering against the real database: a month simulated with an injected
// clock (create, resize at mid-month, delete) matches figures computed by
// hand to the cent; a process moving statuses killed with SIGKILL leaves no
// gap and no double count.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { priceOf, priceTable } from "../components/prices/index.js";
import { templates } from "../components/templates/index.js";
import { sizeNames } from "../components/templates/sizes.js";
import { storedResource } from "../test/rows.js";
import { createDatabase } from "./db.js";
import { monthBounds, openMissingSegments, usageOf } from "./metering.js";
import { ResourceStatuses } from "./resource-status.js";

const db = createDatabase(process.env.DATABASE_URL!);
const teamIds: string[] = [];
afterAll(async () => {
  await db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
  await db.team.deleteMany({ where: { id: { in: teamIds } } });
  await db.$disconnect();
});

async function team(tier: "FREE" | "BASIC" | "PRO" | "ENTERPRISE" = "BASIC") {
  const t = await db.team.create({ data: { name: `meter-${crypto.randomBytes(4).toString("hex")}`, tier } });
  teamIds.push(t.id);
  return t;
}

/** A clock the test sets; the statuses' moves are stamped with it. */
function clockAt(iso: string) {
  let now = new Date(iso);
  return { now: () => now, set: (at: string) => (now = new Date(at)) };
}

describe("price table", () => {
  it("has a price for every tier, template and size", () => {
    for (const tier of ["FREE", "BASIC", "PRO", "ENTERPRISE"] as const)
      for (const template of Object.keys(templates))
        for (const size of sizeNames) expect(priceOf(tier, template, size, {}), `${tier} ${template} ${size}`).toBeDefined();
    expect(priceTable.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe("a simulated month", () => {
  let teamId: string;
  const clock = clockAt("2026-02-27T12:00:00Z");
  const statuses = new ResourceStatuses(db, clock.now);
  let pg: string;
  let cluster: string;
  let storage: string;
  let broken: string;

  beforeAll(async () => {
    teamId = (await team("BASIC")).id;
    // BASIC prices: postgres-small small 0.08 $/h, medium 0.16; ipfs-cluster-small small 0.02 $/h per node; small-storage small 0.01.
    cluster = (await storedResource(db, teamId, { name: "cluster", template: "ipfs-cluster-small", options: { peers: 2 } })).id;
    pg = (await storedResource(db, teamId, { name: "db", template: "postgres-small" })).id;
    storage = (await storedResource(db, teamId, { name: "blobs" })).id;
    broken = (await storedResource(db, teamId, { name: "broken" })).id;

    await statuses.markActive(cluster); // Feb 27 12:00, runs past the month's end
    clock.set("2026-03-03T09:00:00Z");
    // A create that fails is not billed, nor is its deletion: billing starts at a first ACTIVE.
    await statuses.markFailed(broken, "create failed: boom");
    await statuses.markDeleting(broken);
    await statuses.markDeleted(broken);
    clock.set("2026-03-03T10:00:00Z");
    await statuses.markActive(pg);
    clock.set("2026-03-15T23:00:00Z");
    await statuses.markUpdating(pg); // the resize runs an hour: still priced small
    clock.set("2026-03-16T00:00:00Z");
    await statuses.markActive(pg, { size: "medium" });
    clock.set("2026-03-20T00:00:00Z");
    await statuses.healthMove(pg, { from: "ACTIVE", to: "DEGRADED", lastError: "unhealthy: x" }); // still billed
    clock.set("2026-03-20T06:00:00Z");
    await statuses.healthMove(pg, { from: "DEGRADED", to: "ACTIVE", lastError: null });
    clock.set("2026-03-25T12:00:00Z");
    await statuses.markDeleting(pg);
    clock.set("2026-03-25T12:30:00Z");
    await statuses.markDeleted(pg);
    clock.set("2026-03-31T23:20:00Z");
    await statuses.markActive(storage);
  });

  it("March, once over: the lines and total match the hand-computed figures to the cent", async () => {
    const usage = await usageOf(db, teamId, "2026-03", new Date("2026-04-02T00:00:00Z"));
    const line = (id: string) => usage.lines.find((l) => l.resourceId === id)!;
    // db: 03-03 10:00 → 03-16 00:00 = 302 h × 0.08 = 24.16; 03-16 00:00 → 03-25 12:30 = 228.5 h × 0.16 = 36.56.
    expect(line(pg)).toMatchObject({ hours: 530.5, costCents: 6072, cpuHours: 302 * 2 + 228.5 * 4, memoryGbHours: 302 * 4 + 228.5 * 8 });
    expect(line(pg).storageGbHours).toBe(302 * 10 + 228.5 * 25);
    expect(line(pg).segments.map((s) => [s.size, s.from, s.to, s.hours])).toEqual([
      ["small", "2026-03-03T10:00:00.000Z", "2026-03-16T00:00:00.000Z", 302],
      ["medium", "2026-03-16T00:00:00.000Z", "2026-03-25T12:30:00.000Z", 228.5],
    ]);
    // cluster: the whole of March, 744 h × 2 nodes × 0.02 = 29.76.
    expect(line(cluster)).toMatchObject({ hours: 744, costCents: 2976 });
    // blobs: 40 minutes × 0.01 = 0.67 cents, rounded half up once per line.
    expect(line(storage)).toMatchObject({ costCents: 1 });
    expect(usage.totalCents).toBe(6072 + 2976 + 1);
    expect(usage.lines).toHaveLength(3);
  });

  it("a month not over counts up to the clock; the month before has only what ran then", async () => {
    const midMarch = await usageOf(db, teamId, "2026-03", new Date("2026-03-10T10:00:00Z"));
    // db 168 h × 0.08 = 13.44; cluster 226 h × 0.04 = 9.04.
    expect(midMarch.totalCents).toBe(1344 + 904);
    const february = await usageOf(db, teamId, "2026-02", new Date("2026-04-02T00:00:00Z"));
    // cluster 02-27 12:00 → 03-01 = 36 h × 0.04 = 1.44.
    expect(february.lines.map((l) => [l.name, l.costCents])).toEqual([["cluster", 144]]);
    expect(monthBounds("2026-13")).toBeUndefined();
  });
});

describe("restating a status", () => {
  it("opens no new segment: a postgres-medium's health dips and recoveries keep one segment", async () => {
    const teamId = (await team("BASIC")).id;
    const id = (await storedResource(db, teamId, { name: "pgm", template: "postgres-medium", size: "medium" })).id;
    const statuses = new ResourceStatuses(db);
    await statuses.markActive(id);
    for (let i = 0; i < 3; i++) {
      await statuses.healthMove(id, { from: "ACTIVE", to: "DEGRADED", lastError: `unhealthy: ${i}` });
      await statuses.healthMove(id, { from: "DEGRADED", to: "ACTIVE", lastError: null });
    }
    const segments = await db.usageSegment.findMany({ where: { resourceId: id } });
    // Primary and replica: twice the size's 4 vCPU / 16 GB / 50 GB; priced as one resource (0.40 $/h).
    expect(segments.map((s) => [s.units, Number(s.cpus), s.memoryMb, s.storageGb, Number(s.microUsdPerHour)])).toEqual([
      [2, 8, 32768, 100, 400_000],
    ]);
  });

  it("a template the price table lacks is metered unpriced, and the move still happens", async () => {
    const teamId = (await team("BASIC")).id;
    const id = (await storedResource(db, teamId, { name: "old", template: "retired-template" })).id;
    await new ResourceStatuses(db).markActive(id);
    expect((await db.resource.findUniqueOrThrow({ where: { id } })).status).toBe("ACTIVE");
    expect((await db.usageSegment.findFirstOrThrow({ where: { resourceId: id } })).priceVersion).toBe("unpriced");
  });
});

describe("resources running from before metering", () => {
  it("get one segment from the round that finds them, and only one", async () => {
    const teamId = (await team("BASIC")).id;
    const running = (await storedResource(db, teamId, { name: "old-running", status: "ACTIVE" })).id;
    const failed = (await storedResource(db, teamId, { name: "old-failed", status: "FAILED" })).id;
    const at = new Date("2026-11-20T00:00:00Z");
    expect(await openMissingSegments(db, () => at)).toBeGreaterThanOrEqual(1);
    expect(await openMissingSegments(db, () => at)).toBe(0);
    expect((await db.usageSegment.findMany({ where: { resourceId: running } })).map((s) => [s.startedAt, s.endedAt])).toEqual([[at, null]]);
    expect(await db.usageSegment.count({ where: { resourceId: failed } })).toBe(0);
  });
});

describe("a process moving statuses killed with SIGKILL", () => {
  it("leaves contiguous segments, one open at the size the resource has: no gap, no double count", async () => {
    const teamId = (await team("PRO")).id;
    const id = (await storedResource(db, teamId, { name: "killed", template: "postgres-small" })).id;
    await new ResourceStatuses(db).markActive(id);
    // node itself with tsx's loader (the tsx command would run it in a grandchild that SIGKILL does not reach).
    const child = spawn(process.execPath, ["--import", "tsx", path.join("core", "metering-crash-child.ts"), id], {
      stdio: ["ignore", "pipe", "inherit"],
      env: process.env,
    });
    let resized = 0;
    // Killed at a moment of its own: after a number of resizes, wherever it is then (often inside a transaction).
    const target = 20 + crypto.randomInt(20);
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        resized += chunk.toString().split("\n").filter(Boolean).length;
        if (resized >= target && child.exitCode === null) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });
    expect(child.signalCode).toBe("SIGKILL");
    expect(resized).toBeGreaterThanOrEqual(target);

    const check = async () => {
      const resource = await db.resource.findUniqueOrThrow({ where: { id } });
      const segments = await db.usageSegment.findMany({ where: { resourceId: id }, orderBy: { startedAt: "asc" } });
      const open = segments.filter((s) => s.endedAt === null);
      expect(open).toHaveLength(1);
      expect(open[0]).toBe(segments.at(-1));
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.startedAt).toEqual(segments[i - 1]!.endedAt);
      // Every committed resize's ACTIVE opened one segment; an interrupted one left the resource UPDATING at its old size.
      if (resource.status === "ACTIVE") expect(open[0]!.size).toBe(resource.size);
      return { resource, segments };
    };
    const { resource, segments } = await check();
    expect(segments.length).toBeGreaterThanOrEqual(target + 1);
    // The service comes back: the interrupted update ends, metering goes on from there.
    const statuses = new ResourceStatuses(db);
    if (resource.status !== "UPDATING") await statuses.markUpdating(id);
    await statuses.markActive(id, { size: "large" });
    const after = await check();
    expect(after.segments.at(-1)!.size).toBe("large");
    // The month's hours are the time since the first ACTIVE, exactly once.
    const first = after.segments[0]!.startedAt;
    const now = new Date();
    const usage = await usageOf(db, teamId, now.toISOString().slice(0, 7), now);
    if (first.toISOString().slice(0, 7) === now.toISOString().slice(0, 7))
      expect(usage.lines[0]!.hours).toBeCloseTo((now.getTime() - first.getTime()) / 3_600_000, 3);
  });
});
