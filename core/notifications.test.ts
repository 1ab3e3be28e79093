// Which status moves are events, and that an event is queued exactly when the
// change it reports commits (the outbox row is written in the same transaction).
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { ResourceStatus } from "../prisma/generated/client.js";
import { createDatabase } from "./db.js";
import { EventLog } from "./event-log.js";
import { eventOfMove, notify } from "./notifications.js";
import { ResourceStatuses } from "./resource-status.js";

describe("eventOfMove", () => {
  // [from, to, event]
  const cases: [ResourceStatus, ResourceStatus, string | undefined][] = [
    ["PROVISIONING", "ACTIVE", "resource.active"],
    ["UPDATING", "ACTIVE", "resource.active"],
    ["DEGRADED", "ACTIVE", "resource.recovered"],
    ["ACTIVE", "DEGRADED", "resource.degraded"],
    ["UPDATING", "DEGRADED", "resource.degraded"],
    ["DEGRADED", "DEGRADED", undefined],
    ["PROVISIONING", "FAILED", "resource.failed"],
    ["DELETING", "FAILED", "resource.failed"],
    ["FAILED", "FAILED", undefined],
    ["DELETING", "DELETED", "resource.deleted"],
    ["ACTIVE", "UPDATING", undefined],
    ["ACTIVE", "DELETING", undefined],
    ["FAILED", "UPDATING", undefined],
  ];
  it.each(cases)("%s → %s: %s", (from, to, event) => {
    expect(eventOfMove(from, to)).toBe(event);
  });
});

describe("notify and the status owner, against the database", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  const teamIds: string[] = [];
  afterAll(async () => {
    await db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
    await db.team.deleteMany({ where: { id: { in: teamIds } } });
    await db.$disconnect();
  });

  async function teamWithWebhook(events: string[]) {
    const suffix = crypto.randomBytes(4).toString("hex");
    const team = await db.team.create({ data: { name: `notify-${suffix}` } });
    teamIds.push(team.id);
    const webhook = await db.webhook.create({
      data: { teamId: team.id, url: "https://example.com/hook", eventTypes: events, secretCiphertext: Buffer.from("x"), secretKeyId: "k" },
    });
    const resource = await db.resource.create({
      data: {
        teamId: team.id,
        name: "r",
        hostName: `notify-${suffix}`,
        template: "postgres-small",
        target: "docker-host",
        size: "small",
        cpus: 1,
        memoryMb: 256,
      },
    });
    return { team, webhook, resource };
  }
  const queued = (webhookId: string) => db.webhookDelivery.findMany({ where: { webhookId } });

  it("queues one delivery per subscribed webhook of the team, none for other types or other teams", async () => {
    const { team, webhook } = await teamWithWebhook(["backup.failed"]);
    const other = await teamWithWebhook(["backup.failed"]);
    expect(await notify(db, { teamId: team.id, type: "restore_verification.failed", data: {} })).toBe(0);
    expect(await notify(db, { teamId: team.id, type: "backup.failed", data: { reason: "x" } })).toBe(1);
    const [row] = await queued(webhook.id);
    expect(row).toMatchObject({ eventType: "backup.failed", status: "PENDING", attempts: 0 });
    expect(JSON.parse(row!.body)).toMatchObject({ type: "backup.failed", data: { reason: "x" } });
    expect(row!.eventId).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(await queued(other.webhook.id)).toEqual([]);
  });

  it("a move in a caller's transaction that rolls back queues nothing; on its own it queues the event with the move", async () => {
    const { webhook, resource } = await teamWithWebhook(["resource.failed"]);
    const rolledBack = await db
      .$transaction(async (tx) => {
        await new ResourceStatuses(tx).markFailed(resource.id, "boom");
        throw new Error("the caller's transaction fails after the move");
      })
      .catch((e: Error) => e.message);
    expect(rolledBack).toBe("the caller's transaction fails after the move");
    expect(await db.resource.findUniqueOrThrow({ where: { id: resource.id } })).toMatchObject({ status: "PROVISIONING" });
    expect(await queued(webhook.id)).toEqual([]);
    await new ResourceStatuses(db).markFailed(resource.id, "boom");
    expect((await queued(webhook.id)).map((d) => d.eventType)).toEqual(["resource.failed"]);
    // Failing again is no news.
    await new ResourceStatuses(db).markFailed(resource.id, "boom again");
    expect(await queued(webhook.id)).toHaveLength(1);
  });

  it("an event recorded with a notification queues it for the resource's team in the same transaction; without, nothing", async () => {
    const { webhook, resource } = await teamWithWebhook(["restore_verification.failed"]);
    const events = new EventLog(db);
    await events.record({ resourceId: resource.id, stage: "health", progress: 100, message: "verified" });
    expect(await queued(webhook.id)).toEqual([]);
    await events.record(
      { resourceId: resource.id, stage: "health", progress: 100, message: "restore verification failed" },
      { type: "restore_verification.failed", data: { resource: { id: resource.id }, reason: "SELECT 1 failed" } },
    );
    const rows = await queued(webhook.id);
    expect(rows.map((d) => JSON.parse(d.body) as unknown)).toMatchObject([
      { type: "restore_verification.failed", data: { resource: { id: resource.id }, reason: "SELECT 1 failed" } },
    ]);
    expect(await db.event.count({ where: { resourceId: resource.id } })).toBe(2);
  });
});
