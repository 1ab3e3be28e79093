// The health monitor's decisions with a scripted probe (no Docker, no network)
// against the real control-plane database: ACTIVE ↔ DEGRADED with the failing
// component named, once per change, and never while an operation is pending.
import crypto from "node:crypto";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { OperationQueue } from "../automation/index.js";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { EventLog } from "../core/event-log.js";
import { Scheduler } from "../core/scheduler.js";
import { HealthMonitor, healthRounds } from "./health-monitor.js";
import type { Failure, ProbeTarget } from "./health-probes.js";
import { Metrics } from "./metrics.js";
import { storedResource } from "../test/rows.js";

const db = createDatabase(process.env.DATABASE_URL!);
const cipher = new CredentialsCipher(parseKeyring(generateKeyringSpec("health-test")));
const teamIds: string[] = [];
afterAll(async () => {
  await db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
  await db.team.deleteMany({ where: { id: { in: teamIds } } });
  await db.$disconnect();
});

/** What the scripted probe answers, by the resource's endpoint; other resources' probes fail to run (left alone). */
const answers = new Map<string, Failure[]>();
const scriptedProbe = async ({ endpoint }: ProbeTarget) => {
  const failures = answers.get(endpoint.api ?? "");
  if (!failures) throw new Error("not this test's resource");
  return { failures, measurements: {} };
};

const monitor = new HealthMonitor({
  db,
  events: new EventLog(db),
  cipher,
  metrics: new Metrics(db),
  logger: pino({ level: "silent" }),
  settings: { intervalSeconds: 0, timeoutSeconds: 1, maxReplicaLagSeconds: 60 },
  scheduler: new Scheduler(db, pino({ level: "silent" })),
  probe: scriptedProbe,
});

async function activeResource(fields: { target?: string; dockerHostId?: string | null } = {}) {
  const suffix = crypto.randomBytes(4).toString("hex");
  const team = await db.team.create({ data: { name: `health-${suffix}` } });
  teamIds.push(team.id);
  const api = `http://health-${suffix}.invalid:5001`;
  const resource = await storedResource(db, team.id, { hostName: `health-${suffix}`, status: "ACTIVE", endpoint: { api }, ...fields });
  const sealed = cipher.seal(resource.id, { apiPassword: "x" });
  await db.resource.update({
    where: { id: resource.id },
    data: { credentialsCiphertext: sealed.ciphertext, credentialsKeyId: sealed.keyId },
  });
  const state = async () => {
    const row = await db.resource.findUniqueOrThrow({ where: { id: resource.id } });
    const events = await db.event.findMany({ where: { resourceId: resource.id, stage: "health" }, orderBy: { id: "asc" } });
    return { status: row.status, lastError: row.lastError, events: events.map((e) => e.message) };
  };
  return { id: resource.id, script: (failures: Failure[]) => answers.set(api, failures), state };
}

const down: Failure[] = [{ component: "ipfs", message: "connection refused" }];

describe("health monitor rounds (scripted probe)", () => {
  it.each([
    { case: "healthy stays ACTIVE, recording nothing", rounds: [[]], status: "ACTIVE", events: [] },
    {
      case: "a failing component makes it DEGRADED, naming it",
      rounds: [down],
      status: "DEGRADED",
      events: ["DEGRADED, unhealthy: ipfs: connection refused"],
    },
    {
      case: "the same failure twice is recorded once",
      rounds: [down, down],
      status: "DEGRADED",
      events: ["DEGRADED, unhealthy: ipfs: connection refused"],
    },
    {
      case: "healthy again: back to ACTIVE",
      rounds: [down, []],
      status: "ACTIVE",
      events: ["DEGRADED, unhealthy: ipfs: connection refused", "ACTIVE: every component is healthy again"],
    },
  ])("$case", async ({ rounds, status, events }) => {
    const resource = await activeResource();
    for (const failures of rounds) {
      resource.script(failures);
      await monitor.checkAll();
    }
    const state = await resource.state();
    expect(state.status).toBe(status);
    expect(state.events).toEqual(events);
    if (status === "DEGRADED") expect(state.lastError).toMatch(/^unhealthy: ipfs: /);
  });

  it("leaves a resource with a queued operation alone: the operation owns its status", async () => {
    const resource = await activeResource();
    await db.$transaction((tx) => OperationQueue.enqueue(tx, resource.id, "UPDATE"));
    resource.script(down);
    await monitor.checkAll();
    expect(await resource.state()).toMatchObject({ status: "ACTIVE", events: [] });
  });

  it("an instance's rounds check its own Docker host's resources and those elsewhere, never another host's (whose ports and backups it cannot see)", async () => {
    const mine = await activeResource({ dockerHostId: "h1" });
    const otherHost = await activeResource({ dockerHostId: "h2" });
    const kubernetes = await activeResource({ target: "kubernetes", dockerHostId: null });
    for (const r of [mine, otherHost, kubernetes]) r.script(down);
    const rounds = healthRounds("h1");
    expect(rounds.map((r) => r.job)).toEqual(["health-rounds", "health-rounds@h1"]);
    for (const round of rounds) await monitor.checkAll(round.where);
    expect((await mine.state()).status).toBe("DEGRADED");
    expect((await kubernetes.state()).status).toBe("DEGRADED");
    expect(await otherHost.state()).toMatchObject({ status: "ACTIVE", events: [] });
    // Its own host's instance does judge it.
    for (const round of healthRounds("h2")) await monitor.checkAll(round.where);
    expect((await otherHost.state()).status).toBe("DEGRADED");
  });
});
