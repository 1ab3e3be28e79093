// Verified restores through the service, for real (issue 12, part 4): a
// postgres-small with a short verification interval. The scheduled job
// restores its newest dump into a scratch container, reads it back and
// records the success (lastVerifiedRestoreAt, the backup's restoreVerifiedAt,
// an event, metrics); a dump corrupted on purpose fails the next
// verification, which makes the resource DEGRADED with the reason; a new good
// backup is verified at the next run and the resource is ACTIVE again.
// Timeouts are generous: the machine is shared; nothing here times anything.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { leftovers } from "./deployment.js";
import { docker, eventually } from "./docker.js";
import { psql } from "./postgres-client.js";
import { client, discardUnfinishedOperations, waitForOperation, waitForStatus, type Client } from "./service-client.js";

const scrapeToken = crypto.randomBytes(24).toString("hex");

interface Listing {
  backups: { id: string; kind: string; restoreVerifiedAt: string | null }[];
  lastVerifiedRestoreAt: string | null;
  lastVerification: { backup: string; ok: boolean; message: string; seconds: number; at: string } | null;
}

describe("restore verification through the service, on a real postgres-small", () => {
  let server: TestServer;
  let api: Client;
  let id: string | undefined;
  let webhookId: string;

  const listing = async (): Promise<Listing> => (await api.get(`/v1/resources/${id}/backups`)).body as Listing;
  const events = async () =>
    (await api.get(`/v1/resources/${id}/events`)).body.events as { stage: string; message: string; detail?: { type?: string } }[];
  const metrics = async () => (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
  const metric = (text: string, name: string) =>
    Number(new RegExp(`^${name}\\{[^}]*resource_id="${id}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);

  beforeAll(async () => {
    server = await startTestServer(
      // 0.01 h: a verification every 36 s.
      {
        HEALTH_CHECK_INTERVAL_SECONDS: "2",
        BACKUP_VERIFY_INTERVAL_HOURS: "0.01",
        PROVISIONER_SCRAPE_TOKEN: scrapeToken,
        // The test's webhook points at this machine; nothing delivers it (no delivery rounds): its outbox is read.
        WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "true",
      },
      { runWorker: false },
    );
    await discardUnfinishedOperations(server.service.db);
    server.service.worker!.start();
    server.service.health.start();
    server.service.restoreVerification.start();
    api = client(server.base, (await new TeamService(server.service.db).create(`v${crypto.randomBytes(3).toString("hex")}`, "PRO")).apiKey);
    const hook = await api.post("/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["restore_verification.failed"] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    webhookId = hook.body.id as string;
    const created = await api.post("/v1/resources", {
      template: "postgres-small",
      name: `rv${process.pid}`,
      options: { backupIntervalMinutes: 60 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    id = created.body.resource.id as string;
    const operation = await waitForOperation(api, id, created.body.operation.id, 360_000);
    expect(operation.status, operation.error).toBe("SUCCEEDED");
    const { endpoint } = (await api.get(`/v1/resources/${id}`)).body;
    const { credentials } = (await api.get(`/v1/resources/${id}/credentials`)).body;
    await psql(
      endpoint,
      credentials,
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'tea' FROM generate_series(1, 1000) g;",
    );
    // The first dump was taken at create, before the table: a backup with it.
    expect((await api.post(`/v1/resources/${id}/backups`, {})).status).toBe(202);
    await eventually(
      async () => ((await listing()).backups.filter((b) => b.kind === "dump").length >= 2 ? true : undefined),
      120_000,
      "the on-demand dump",
    );
  }, 600_000);

  afterAll(async () => {
    if (id) {
      const deleted = await api.delete(`/v1/resources/${id}`);
      if (deleted.status === 202) await waitForOperation(api, id, deleted.body.operation.id, 300_000);
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    }
    await server?.close();
  }, 600_000);

  it(
    "restores the newest dump into a scratch container on the schedule, reads it back and records the success",
    { timeout: 600_000 },
    async () => {
      const verified = await eventually(
        async () => {
          const l = await listing();
          return l.lastVerification?.ok && l.lastVerification.message.includes("1000 rows") ? l : undefined;
        },
        420_000,
        "a verified restore of the dump with the table",
      );
      expect(verified.lastVerifiedRestoreAt).not.toBeNull();
      expect(verified.lastVerification!.message).toMatch(/restored and read 1 tables, 1000 rows/);
      expect(verified.backups.find((b) => b.id === verified.lastVerification!.backup)!.restoreVerifiedAt).not.toBeNull();
      expect((await api.get(`/v1/resources/${id}`)).body.lastVerifiedRestoreAt).not.toBeNull();
      const event = (await events()).find((e) => e.detail?.type === "restore_verification.succeeded");
      expect(event?.stage).toBe("backup");
      // The health round sets the gauges from the recorded rows.
      await eventually(
        async () => {
          const text = await metrics();
          return metric(text, "provisioner_restore_verification_success") === 1 &&
            metric(text, "provisioner_restore_verification_last_success_timestamp_seconds") > 0
            ? true
            : undefined;
        },
        60_000,
        "the verification metrics",
      );
      // The scratch container is gone once it answered.
      expect(await docker("ps", "-aq", "--filter", `name=${hostNameOf(id!)}-restore-check`)).toBe("");
    },
  );

  it(
    "a corrupted dump fails the next verification: DEGRADED with the reason, an event and a metric; a new good backup makes it ACTIVE again",
    { timeout: 900_000 },
    async () => {
      const newest = (await listing()).backups.find((b) => b.kind === "dump")!;
      // Corrupted where the sidecar cannot see it: its size and table of contents were checked when it was written.
      const file = path.join(server.config.backupsDir, hostNameOf(id!), newest.id);
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));

      const degraded = await waitForStatus(api, id!, ["DEGRADED"], 420_000);
      expect(degraded.lastError).toMatch(
        new RegExp(`restore-verification: ${newest.id.replace(".", "\\.")} did not restore: pg_restore: .*(error|could not)`),
      );
      const failed = (await events()).find((e) => e.detail?.type === "restore_verification.failed");
      expect(failed?.message).toContain(newest.id);
      // Queued for the team's webhook in the same transaction as the event, with the reason and nothing secret.
      const queued = await server.service.db.webhookDelivery.findMany({ where: { webhookId } });
      expect(queued.map((d) => d.eventType)).toContain("restore_verification.failed");
      const payload = JSON.parse(queued.find((d) => d.eventType === "restore_verification.failed")!.body) as {
        data: { resource: { id: string }; backup: string; reason: string };
      };
      expect(payload.data).toMatchObject({ resource: { id }, backup: newest.id });
      expect(payload.data.reason).toMatch(/pg_restore/);
      const { credentials } = (await api.get(`/v1/resources/${id}/credentials`)).body;
      for (const d of queued) expect(d.body).not.toContain(credentials.password);
      expect((await listing()).lastVerification).toMatchObject({ backup: newest.id, ok: false });
      await eventually(
        async () => {
          const text = await metrics();
          return metric(text, "provisioner_restore_verification_success") === 0 &&
            metric(text, "provisioner_restore_verification_failures_total") >= 1
            ? true
            : undefined;
        },
        60_000,
        "the failure in the metrics",
      );

      // A new backup: the failed verification is tried again on it at the next run.
      expect((await api.post(`/v1/resources/${id}/backups`, {})).status).toBe(202);
      expect((await waitForStatus(api, id!, ["ACTIVE"], 420_000)).lastError).toBeNull();
      const repaired = await listing();
      expect(repaired.lastVerification).toMatchObject({ ok: true });
      expect(repaired.lastVerification!.backup).not.toBe(newest.id);
    },
  );
});
