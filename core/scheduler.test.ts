// The scheduler against the real control-plane database: several instances,
// one run per period, no overlap, a dead instance's claim expiring.
import crypto from "node:crypto";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "./db.js";
import { Scheduler } from "./scheduler.js";

const db = createDatabase(process.env.DATABASE_URL!);
const logger = pino({ level: "silent" });
const names: string[] = [];
const jobName = () => {
  const name = `test-${crypto.randomBytes(4).toString("hex")}`;
  names.push(name);
  return name;
};

afterAll(async () => {
  await db.job.deleteMany({ where: { name: { in: names } } });
  await db.$disconnect();
});

/** Resolves once `count` runs were recorded, or rejects after `ms`. */
function runsReach(runs: unknown[], count: number, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (runs.length < count && Date.now() - started <= ms) return;
      clearInterval(poll);
      if (runs.length >= count) resolve();
      else reject(new Error(`${runs.length} runs after ${ms} ms, wanted ${count}`));
    }, 50);
  });
}

describe("Scheduler", () => {
  it("two instances asking at once: exactly one runs the period", async () => {
    const name = jobName();
    const ran: string[] = [];
    const a = new Scheduler(db, logger);
    const b = new Scheduler(db, logger);
    const jobA = a.every(name, { intervalSeconds: 3600 }, async () => void ran.push("a"));
    const jobB = b.every(name, { intervalSeconds: 3600 }, async () => void ran.push("b"));
    const answers = await Promise.all([jobA.runIfDue(), jobB.runIfDue(), jobA.runIfDue(), jobB.runIfDue()]);
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(ran).toHaveLength(1);
    // The period is taken: nobody runs it again before the interval has passed.
    expect(await jobB.runIfDue()).toBe(false);
  });

  it("two running schedulers with a 1 s interval run the job once per period, never at the same time", async () => {
    const name = jobName();
    const runs: { who: string; start: number; end: number }[] = [];
    let active = 0;
    let overlapped = false;
    const schedulers = ["a", "b"].map((who) => {
      const scheduler = new Scheduler(db, logger);
      scheduler.every(name, { intervalSeconds: 1, pollSeconds: 0.2 }, async () => {
        active++;
        if (active > 1) overlapped = true;
        const start = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
        active--;
        runs.push({ who, start, end: Date.now() });
      });
      return scheduler;
    });
    schedulers.forEach((s) => s.start());
    try {
      await runsReach(runs, 5);
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
    }
    expect(overlapped).toBe(false);
    // Each run starts at least an interval after the previous one ended, whichever instance ran it.
    const row = await db.job.findUniqueOrThrow({ where: { name } });
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start - runs[i - 1]!.end).toBeGreaterThanOrEqual(950);
    expect(row.runningBy).toBeNull();
  }, 40_000);

  it("a run whose instance died holds the job until its claim expires; then another instance takes it", async () => {
    const name = jobName();
    await db.job.create({
      data: { name, runningBy: "dead-instance", runningUntil: new Date(Date.now() + 60_000), lastStartedAt: new Date() },
    });
    const job = new Scheduler(db, logger).every(name, { intervalSeconds: 1 }, async () => undefined);
    expect(await job.runIfDue()).toBe(false);
    await db.job.update({ where: { name }, data: { runningUntil: new Date(Date.now() - 1000) } });
    expect(await job.runIfDue()).toBe(true);
  });

  it("a failing run is recorded and frees the job for the next period", async () => {
    const name = jobName();
    const job = new Scheduler(db, logger).every(name, { intervalSeconds: 1 }, async () => {
      throw new Error("probe exploded");
    });
    await expect(job.runIfDue()).rejects.toThrow("probe exploded");
    expect(await db.job.findUniqueOrThrow({ where: { name } })).toMatchObject({ runningBy: null, lastError: "probe exploded" });
  });
});
