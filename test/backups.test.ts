// Backups through the service, for real (issue 12): a postgres-small with a
// short health interval. A backup broken on purpose (the backup role loses
// access to a table) makes the resource DEGRADED with the reason, an event and
// the metrics, while the last good dump stays; repaired, it is ACTIVE again.
// DELETE keeps a final dump, from which the team restores a new database. The
// team's webhook receives the backup failure, signed.
import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { leftovers } from "./deployment.js";
import { eventually } from "./docker.js";
import { psql } from "./postgres-client.js";
import { client, discardUnfinishedOperations, waitForOperation, waitForStatus, type Client } from "./service-client.js";
import { startReceiver } from "./webhook-receiver.js";

const scrapeToken = crypto.randomBytes(24).toString("hex");

describe("backups through the service, on a real postgres-small", () => {
  let server: TestServer;
  let api: Client;
  let receiverBase: string;
  const ids: string[] = [];
  const name = `bk${process.pid}`;
  const receiver = startReceiver();

  const sqlOf = async (id: string, statement: string) => {
    const { endpoint } = (await api.get(`/v1/resources/${id}`)).body;
    const credentials = (await api.get(`/v1/resources/${id}/credentials`)).body.credentials;
    return psql(endpoint, credentials, statement);
  };
  const create = async (body: Record<string, unknown>) => {
    const created = await api.post("/v1/resources", body);
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    ids.push(created.body.resource.id);
    const operation = await waitForOperation(api, created.body.resource.id, created.body.operation.id, 360_000);
    expect(operation.status, operation.error).toBe("SUCCEEDED");
    return created.body.resource.id as string;
  };
  const metrics = async () => (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();

  beforeAll(async () => {
    receiverBase = await receiver.listen();
    server = await startTestServer(
      // The test's webhook receiver is on this machine.
      {
        HEALTH_CHECK_INTERVAL_SECONDS: "2",
        PROVISIONER_SCRAPE_TOKEN: scrapeToken,
        WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "true",
        WEBHOOK_DELIVERY_INTERVAL_SECONDS: "1",
      },
      { runWorker: false, deliverWebhooks: true },
    );
    await discardUnfinishedOperations(server.service.db);
    server.service.worker!.start();
    server.service.health.start();
    api = client(server.base, (await new TeamService(server.service.db).create(`b${crypto.randomBytes(3).toString("hex")}`, "PRO")).apiKey);
  }, 60_000);

  afterAll(async () => {
    for (const id of ids) {
      const resource = (await api.get(`/v1/resources/${id}`)).body;
      if (resource.status !== "DELETED") {
        const deleted = await api.delete(`/v1/resources/${id}`);
        await waitForOperation(api, id, deleted.body.operation.id, 300_000);
      }
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    }
    await server?.close();
    await receiver.close();
  }, 600_000);

  it(
    "lists the first backup; a broken backup makes the resource DEGRADED (reason, event, metric) and keeps the good dump; repaired, ACTIVE; DELETE keeps a final dump a new database restores",
    { timeout: 900_000 },
    async () => {
      const hook = await api.post("/v1/webhooks", { url: `${receiverBase}/backups`, events: ["backup.failed"] });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);
      const id = await create({ template: "postgres-small", name, options: { backupIntervalMinutes: 60 } });
      await sqlOf(id, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea');");

      const first = (await api.get(`/v1/resources/${id}/backups`)).body;
      expect(first.backups[0]).toMatchObject({ kind: "dump", verified: true, reason: "first" });
      expect(first.problem).toBeNull();
      await eventually(async () => ((await api.get(`/v1/resources/${id}`)).body.lastBackupAt ? true : undefined), 60_000, "lastBackupAt");
      expect(await metrics()).toMatch(
        new RegExp(`provisioner_backup_last_success_timestamp_seconds\\{[^}]*resource_id="${id}"[^}]*\\} [1-9]`),
      );

      // Broken: the backup role (the resource's own) loses access to a table, so pg_dump fails.
      await sqlOf(id, "CREATE TABLE locked (id int); REVOKE ALL ON locked FROM current_user;");
      expect((await api.post(`/v1/resources/${id}/backups`, {})).status).toBe(202);
      const degraded = await waitForStatus(api, id, ["DEGRADED"], 180_000);
      expect(degraded.lastError).toMatch(/backup: backup failed: pg_dump: .*permission denied/);
      const events = (await api.get(`/v1/resources/${id}/events`)).body.events as {
        stage: string;
        message: string;
        detail?: { type?: string; problem?: string };
      }[];
      expect(events.some((e) => e.stage === "health" && /backup failed/.test(e.message))).toBe(true);
      // Its own event type too, for subscribers (webhooks).
      const typed = events.find((e) => e.detail?.type === "backup.failed");
      expect(typed).toMatchObject({ stage: "backup" });
      expect(typed!.detail!.problem).toMatch(/permission denied/);
      // Queued for the team's webhook in the same transaction, with the reason and nothing secret.
      const queued = await server.service.db.webhookDelivery.findMany({ where: { webhookId: hook.body.id as string } });
      const payload = JSON.parse(queued.find((d) => d.eventType === "backup.failed")!.body) as {
        data: { resource: { id: string; status: string }; reason: string };
      };
      expect(payload.data).toMatchObject({ resource: { id, status: "DEGRADED" } });
      expect(payload.data.reason).toMatch(/permission denied/);
      const { credentials } = (await api.get(`/v1/resources/${id}/credentials`)).body;
      for (const d of queued) expect(d.body).not.toContain(credentials.password);
      // Delivered: the receiver verifies the signature with the webhook's secret.
      const delivery = await eventually(
        async () => receiver.received.find((r) => r.path === "/backups" && r.answered === 200),
        60_000,
        "the backup.failed webhook delivered",
      );
      const event = new Webhook(hook.body.secret as string).verify(delivery.body, delivery.headers) as {
        type: string;
        data: { reason: string };
      };
      expect(event.type).toBe("backup.failed");
      expect(event.data.reason).toMatch(/permission denied/);
      expect(delivery.body).not.toContain(credentials.password);
      const broken = (await api.get(`/v1/resources/${id}/backups`)).body;
      expect(broken.problem).toMatch(/permission denied/);
      expect(broken.backups.map((b: { id: string }) => b.id)).toContain(first.backups[0].id);
      expect(broken.failures).toBeGreaterThan(0);
      await eventually(
        async () => (/provisioner_backup_failures_total\{[^}]*\} [1-9]/.test(await metrics()) ? true : undefined),
        60_000,
        "the failure counted",
      );

      // Repaired.
      await sqlOf(id, "GRANT ALL ON locked TO current_user;");
      expect((await api.post(`/v1/resources/${id}/backups`, {})).status).toBe(202);
      expect((await waitForStatus(api, id, ["ACTIVE"], 180_000)).lastError).toBeNull();

      // DELETE keeps a final dump in the store; the team restores it into a new database.
      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(await waitForOperation(api, id, deleted.body.operation.id, 300_000)).toMatchObject({ status: "SUCCEEDED" });
      const kept = (await api.get(`/v1/resources/${id}/backups`)).body;
      const final = kept.backups.find((b: { reason?: string }) => b.reason === "final");
      expect(final).toBeDefined();
      expect(kept.keptUntil).not.toBeNull();

      const copy = await create({ template: "postgres-small", name: `${name}c`, restoreFrom: { resource: id, backup: final.id } });
      expect(await sqlOf(copy, "SELECT item FROM orders")).toBe("tea");

      // Bad restore requests are 4xx naming the field, and create nothing.
      const bad = await api.post("/v1/resources", {
        template: "postgres-small",
        name: `${name}d`,
        restoreFrom: { resource: id, backup: "dumps/20000101T000000Z.dump" },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields[0].field).toBe("restoreFrom.backup");
    },
  );
});
