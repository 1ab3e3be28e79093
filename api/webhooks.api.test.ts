// /v1/webhooks in-process against the real database, delivering over real
// HTTP to a receiver on 127.0.0.1 (the service allows private destinations
// for it, as WEBHOOK_ALLOW_PRIVATE_DESTINATIONS says). No operation worker:
// resources' statuses are moved through core/resource-status.ts, the one
// owner of status changes, as the worker and the health monitor move them.
import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialsCipher } from "../core/credentials-cipher.js";
import { notify } from "../core/notifications.js";
import { ResourceStatuses } from "../core/resource-status.js";
import type { Tier } from "../prisma/generated/client.js";
import { client, discardUnfinishedOperations, type Client } from "../test/service-client.js";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { startReceiver, until } from "../test/webhook-receiver.js";
import { TeamService } from "./teams.service.js";
import { guardedLookup } from "./webhook-destinations.js";

const allResourceEvents = ["resource.active", "resource.failed", "resource.degraded", "resource.recovered", "resource.deleted"];
const scrapeToken = crypto.randomBytes(16).toString("hex");

describe("/v1/webhooks", () => {
  let server: TestServer;
  let strict: TestServer;
  const receiver = startReceiver();
  let receiverBase: string;
  const teamIds: string[] = [];

  beforeAll(async () => {
    receiverBase = await receiver.listen();
    server = await startTestServer(
      {
        WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "true",
        WEBHOOK_DELIVERY_INTERVAL_SECONDS: "0.2",
        WEBHOOK_RETRY_BASE_SECONDS: "0.2",
        WEBHOOK_MAX_ATTEMPTS: "3",
        PROVISIONER_SCRAPE_TOKEN: scrapeToken,
      },
      { runWorker: false, deliverWebhooks: true },
    );
    // The default policy: private destinations refused; it delivers nothing (the rounds are the first server's).
    strict = await startTestServer({}, { runWorker: false, deliverWebhooks: false });
  });
  afterAll(async () => {
    await discardUnfinishedOperations(server.service.db, { teamIds });
    await strict?.close();
    await server?.close();
    await receiver.close();
  });

  async function newTeam(tier: Tier = "PRO"): Promise<{ api: Client; teamId: string; apiKey: string }> {
    const { team, apiKey } = await new TeamService(server.service.db).create(`w${crypto.randomBytes(4).toString("hex")}`, tier);
    teamIds.push(team.id);
    return { api: client(server.base, apiKey), teamId: team.id, apiKey };
  }
  const storage = (name: string) => ({ template: "small-storage", name, options: { publicNetwork: false } });
  const delivered = (path: string) => receiver.received.filter((r) => r.path === path && r.answered === 200);

  it("create shows the secret once; list and get never; another team sees nothing of it and cannot delete it (404)", async () => {
    const { api, teamId } = await newTeam();
    const created = await api.post("/v1/webhooks", { url: `${receiverBase}/mine`, events: ["resource.failed", "resource.failed"] });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.body).toMatchObject({ url: `${receiverBase}/mine`, events: ["resource.failed"] });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const secret: string = created.body.secret;

    const listed = await api.get("/v1/webhooks");
    expect(listed.body.webhooks).toEqual([
      { id: created.body.id, url: `${receiverBase}/mine`, events: ["resource.failed"], createdAt: created.body.createdAt },
    ]);
    const one = await api.get(`/v1/webhooks/${created.body.id}`);
    for (const reply of [listed, one]) expect(JSON.stringify(reply.body)).not.toContain(secret.slice(6));
    // At rest: sealed, not the secret.
    const row = await server.service.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(Buffer.from(row.secretCiphertext).toString("latin1")).not.toContain(secret.slice(6));

    const { api: stranger } = await newTeam();
    expect((await stranger.get("/v1/webhooks")).body.webhooks).toEqual([]);
    for (const path of ["", "/deliveries"]) expect((await stranger.get(`/v1/webhooks/${created.body.id}${path}`)).status).toBe(404);
    expect((await stranger.delete(`/v1/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await stranger.get("/v1/webhooks/not-a-uuid")).status).toBe(404);
    expect(await server.service.db.webhook.count({ where: { teamId } })).toBe(1);

    expect((await api.delete(`/v1/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await api.get(`/v1/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await api.delete(`/v1/webhooks/${created.body.id}`)).status).toBe(404);
    const audit = (await api.get("/v1/team/audit")).body.entries.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(["webhook.create", "webhook.delete"]));
  });

  describe("bad input is a 4xx naming the field, and creates nothing", () => {
    // [what, body, status, code, field]
    const cases: [string, unknown, number, string, string][] = [
      ["a URL that is not http(s)", { url: "ftp://example.com/x", events: ["resource.failed"] }, 400, "invalid_request", "url"],
      ["a URL with user info", { url: "https://user:pw@example.com/x", events: ["resource.failed"] }, 400, "invalid_request", "url"],
      ["a URL that is not a URL", { url: "hooks", events: ["resource.failed"] }, 400, "invalid_request", "url"],
      ["an unknown event type", { url: "https://example.com/x", events: ["resource.exploded"] }, 400, "invalid_request", "events.0"],
      ["no event type", { url: "https://example.com/x", events: [] }, 400, "invalid_request", "events"],
      ["no events field", { url: "https://example.com/x" }, 400, "invalid_request", "events"],
      ["an unknown field", { url: "https://example.com/x", events: ["resource.failed"], secret: "mine" }, 400, "invalid_request", "secret"],
    ];
    it.each(cases)("%s", async (_what, body, status, code, field) => {
      const { api, teamId } = await newTeam();
      const reply = await api.post("/v1/webhooks", body);
      expect(reply.status).toBe(status);
      expect(reply.body.error.code).toBe(code);
      expect(reply.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(await server.service.db.webhook.count({ where: { teamId } })).toBe(0);
    });

    it("by default, private, loopback and link-local destinations are refused (403 naming url); public ones accepted", async () => {
      const { apiKey, teamId } = await newTeam();
      const api = client(strict.base, apiKey);
      for (const url of [
        `${receiverBase}/x`,
        "http://localhost:8080/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
      ]) {
        const reply = await api.post("/v1/webhooks", { url, events: ["resource.failed"] });
        expect(reply.status, url).toBe(403);
        expect(reply.body.error.code).toBe("destination_refused");
        expect(reply.body.error.fields[0].field).toBe("url");
      }
      expect(await strict.service.db.webhook.count({ where: { teamId } })).toBe(0);
      expect((await api.post("/v1/webhooks", { url: "https://93.184.215.14/hook", events: ["resource.failed"] })).status).toBe(201);
    });

    it("at delivery, a name resolving to a private address is refused before connecting", async () => {
      const error = await new Promise<Error | null>((resolve) => guardedLookup("localhost", {}, (e) => resolve(e)));
      expect(error?.message).toMatch(/^destination refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    });
  });

  it("a resource's status changes reach the webhook signed; a 500 is retried and the log shows both attempts; no secret in any body", async () => {
    const { api, apiKey, teamId } = await newTeam();
    const path = `/flaky/${crypto.randomBytes(4).toString("hex")}`;
    const hook = (await api.post("/v1/webhooks", { url: `${receiverBase}${path}`, events: allResourceEvents })).body;
    const created = (await api.post("/v1/resources", storage("watched"))).body.resource;
    // The worker's part, done by hand: the create ran, with credentials.
    const db = server.service.db;
    const password = crypto.randomBytes(24).toString("hex");
    const sealed = new CredentialsCipher(server.config.keyring).seal(created.id, { password });
    await db.operation.updateMany({ where: { resourceId: created.id }, data: { status: "SUCCEEDED", finishedAt: new Date() } });
    const statuses = new ResourceStatuses(db);
    await statuses.markActive(created.id, {
      endpoint: { api: "http://127.0.0.1:1" },
      credentialsCiphertext: Buffer.from(sealed.ciphertext),
      credentialsKeyId: sealed.keyId,
    });
    // The health monitor's part.
    expect(await statuses.healthMove(created.id, { from: "ACTIVE", to: "DEGRADED", lastError: "unhealthy: ipfs0: down" })).toBe(true);
    expect(await statuses.healthMove(created.id, { from: "DEGRADED", to: "DEGRADED", lastError: "unhealthy: ipfs0: still down" })).toBe(
      true,
    );
    expect(await statuses.healthMove(created.id, { from: "DEGRADED", to: "ACTIVE", lastError: null })).toBe(true);
    await statuses.markFailed(created.id, "refresh failed: boom");
    await statuses.markDeleting(created.id);
    await statuses.markDeleted(created.id);

    // One event per change of status (restating DEGRADED is none), each delivered once.
    const bodies = await until("five events delivered", () => {
      const ok = delivered(path);
      return ok.length >= 5 && ok;
    });
    const verifier = new Webhook(hook.secret);
    const events = bodies.map((r) => verifier.verify(r.body, r.headers) as { type: string; data: Record<string, any> });
    expect(events.map((e) => e.type).sort()).toEqual([...allResourceEvents].sort());
    expect(events.find((e) => e.type === "resource.degraded")!.data).toEqual({
      resource: { id: created.id, name: "watched", template: "small-storage", status: "DEGRADED" },
      previousStatus: "ACTIVE",
      reason: "unhealthy: ipfs0: down",
    });
    expect(events.find((e) => e.type === "resource.recovered")!.data.previousStatus).toBe("DEGRADED");
    expect(events.find((e) => e.type === "resource.failed")!.data.reason).toBe("refresh failed: boom");

    // A signature made with another secret, or over another body, does not verify.
    const first = bodies[0]!;
    expect(() => new Webhook(`whsec_${crypto.randomBytes(32).toString("base64")}`).verify(first.body, first.headers)).toThrow();
    expect(() => verifier.verify(first.body.replace("small-storage", "large-storage"), first.headers)).toThrow();

    // The first request got a 500: the same message (same webhook-id and body) came again and was taken.
    const failed = receiver.received.filter((r) => r.path === path && r.answered === 500);
    expect(failed).toHaveLength(1);
    const retried = bodies.find((r) => r.headers["webhook-id"] === failed[0]!.headers["webhook-id"])!;
    expect(retried.body).toBe(failed[0]!.body);
    const log = await until("the delivery log to settle", async () => {
      const page = (await api.get(`/v1/webhooks/${hook.id}/deliveries`)).body;
      return page.deliveries.length === 5 && page.deliveries.every((d: { status: string }) => d.status === "DELIVERED") && page;
    });
    const retriedDelivery = log.deliveries.find((d: { eventId: string }) => d.eventId === failed[0]!.headers["webhook-id"]);
    expect(retriedDelivery.attempts).toMatchObject([
      { attempt: 1, statusCode: 500, error: "the receiver answered HTTP 500" },
      { attempt: 2, statusCode: 200, error: null },
    ]);
    expect(log.deliveries.filter((d: { attempts: unknown[] }) => d.attempts.length === 1)).toHaveLength(4);

    // No secret anywhere in what was sent or logged: the API key, the webhook's secret, the resource's credentials.
    const everything = [...receiver.received.filter((r) => r.path === path).map((r) => r.body), JSON.stringify(log)].join("\n");
    for (const secret of [apiKey, hook.secret, hook.secret.slice(6), password]) expect(everything).not.toContain(secret);
    expect(await db.webhookDelivery.count({ where: { webhook: { teamId } } })).toBe(5);
  }, 90_000);

  it("a webhook that keeps failing is given up after WEBHOOK_MAX_ATTEMPTS, counted in its metrics, and never fails the resource", async () => {
    const { api } = await newTeam();
    const path = `/down/${crypto.randomBytes(4).toString("hex")}`;
    const hook = (await api.post("/v1/webhooks", { url: `${receiverBase}${path}`, events: ["resource.active"] })).body;
    const created = (await api.post("/v1/resources", storage("calm"))).body.resource;
    await new ResourceStatuses(server.service.db).markActive(created.id);
    const log = await until("the delivery to be given up", async () => {
      const page = (await api.get(`/v1/webhooks/${hook.id}/deliveries`)).body;
      return page.deliveries[0]?.status === "FAILED" && page;
    });
    expect(log.deliveries[0].attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500]);
    expect(log.deliveries[0].nextAttemptAt).toBeNull();
    expect((await api.get(`/v1/resources/${created.id}`)).body).toMatchObject({ status: "ACTIVE", lastError: null });
    const metrics = await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } }).then((r) => r.text());
    expect(
      Number(/^provisioner_webhook_delivery_failures_total\{event="resource.active"\} (\d+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^provisioner_webhook_deliveries_total\{event="resource.active",result="failed"\} [1-9]/m);
  }, 90_000);

  it("quota: the create that takes the team to 80 % of a limit is told once; other code enqueues any event with notify()", async () => {
    const { api, teamId } = await newTeam("FREE"); // 3 resources: the third crosses 80 %
    const path = `/quota/${crypto.randomBytes(4).toString("hex")}`;
    const hook = (await api.post("/v1/webhooks", { url: `${receiverBase}${path}`, events: ["quota.threshold_reached", "backup.failed"] }))
      .body;
    const queued = () => server.service.db.webhookDelivery.count({ where: { webhookId: hook.id } });
    expect((await api.post("/v1/resources", storage("one"))).status).toBe(202);
    expect((await api.post("/v1/resources", storage("two"))).status).toBe(202);
    // The outbox is written in the create's transaction: nothing queued means nothing will be sent.
    expect(await queued()).toBe(0);
    expect((await api.post("/v1/resources", storage("three"))).status).toBe(202);
    expect(await queued()).toBe(1);
    // The backups' code (another branch) reports through the same function.
    await notify(server.service.db, {
      teamId,
      type: "backup.failed",
      data: { resource: { id: crypto.randomUUID() }, reason: "pg_dump failed" },
    });
    const got = await until("two events", () => delivered(path).length >= 2 && delivered(path));
    const verifier = new Webhook(hook.secret);
    const events = got.map((r) => verifier.verify(r.body, r.headers) as { type: string; data: unknown });
    expect(events.find((e) => e.type === "quota.threshold_reached")!.data).toEqual({
      tier: "FREE",
      threshold: 0.8,
      quotas: [{ quota: "resources", used: 3, limit: 3 }],
    });
    expect(events.find((e) => e.type === "backup.failed")!.data).toMatchObject({ reason: "pg_dump failed" });
  }, 90_000);

  it("quota: a resize whose reservation takes the team past 80 % of its CPUs is told once", async () => {
    const { api } = await newTeam("BASIC"); // 16 CPUs: 80 % is 12.8
    const path = `/quota/${crypto.randomBytes(4).toString("hex")}`;
    const hook = (await api.post("/v1/webhooks", { url: `${receiverBase}${path}`, events: ["quota.threshold_reached"] })).body;
    const queued = () => server.service.db.webhookDelivery.findMany({ where: { webhookId: hook.id } });
    expect((await api.post("/v1/resources", { template: "postgres-small", name: "small" })).status).toBe(202);
    const medium = await api.post("/v1/resources", { template: "postgres-medium", name: "medium", size: "small" });
    expect(medium.status).toBe(202);
    expect(await queued()).toEqual([]);
    const team = (await api.get("/v1/team")).body.quota;
    expect(team.cpus.used).toBeLessThan(12.8);
    expect((await api.patch(`/v1/resources/${medium.body.resource.id}`, { size: "medium" })).status).toBe(202);
    const rows = await queued();
    expect(rows).toHaveLength(1);
    const { data } = JSON.parse(rows[0]!.body) as { data: { quotas: { quota: string; used: number; limit: number }[] } };
    expect(data.quotas).toEqual([{ quota: "cpus", used: (await api.get("/v1/team")).body.quota.cpus.used, limit: 16 }]);
    expect(data.quotas[0]!.used).toBeGreaterThanOrEqual(12.8);
    // Another resize while above 80 % is no news.
    expect((await api.patch(`/v1/resources/${medium.body.resource.id}`, { options: {} })).status).toBe(202);
    expect(await queued()).toHaveLength(1);
  });
});
