// Usage reported to Stripe, against stripe-mock (Stripe's API mock: it
// validates every request against Stripe's OpenAPI spec, but does not
// deduplicate). A recording proxy in front of it keeps every request the
// official client makes, so the tests see each call, its Idempotency-Key and
// the mock's answer. "Exactly once" is proven from the project's own records
// (usage_reports) and the calls the proxy saw.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceStatuses } from "../core/resource-status.js";
import { freePort } from "../test/net.js";
import { client } from "../test/service-client.js";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { stripeClient } from "./stripe-client.js";
import { TeamService } from "./teams.service.js";
import { UsageReporter } from "./usage-reporter.js";

interface Call {
  method: string;
  path: string;
  idempotencyKey?: string;
  stripeVersion?: string;
  form: URLSearchParams;
  status: number;
  answer: string;
}

/** Forwards to stripe-mock and records; `failNext` answers 503 to the next N meter events without forwarding them. */
function recordingProxy(upstream: string) {
  const calls: Call[] = [];
  const state = { failNext: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void answer());
    const answer = async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const call: Call = {
        method: req.method!,
        path: req.url!,
        idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        stripeVersion: req.headers["stripe-version"] as string | undefined,
        form: new URLSearchParams(body),
        status: 0,
        answer: "",
      };
      calls.push(call);
      if (state.failNext > 0 && req.url === "/v1/billing/meter_events") {
        state.failNext--;
        call.status = 503;
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"type":"api_error","message":"try again"}}');
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<
        string,
        string
      >;
      const upstreamAnswer = await fetch(`${upstream}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === "GET" ? undefined : body,
      });
      call.status = upstreamAnswer.status;
      call.answer = await upstreamAnswer.text();
      res.writeHead(upstreamAnswer.status, { "content-type": "application/json" }).end(call.answer);
    };
  });
  return {
    calls,
    state,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hourMs = 3_600_000;
const meterEvents = (calls: Call[]) => calls.filter((c) => c.method === "POST" && c.path === "/v1/billing/meter_events");

describe("usage reported to Stripe (stripe-mock)", () => {
  let mock: ChildProcess;
  let mockBase: string;
  let proxy: ReturnType<typeof recordingProxy>;
  let server: TestServer;
  const teamIds: string[] = [];

  beforeAll(async () => {
    const binary = process.env.PROVISIONER_STRIPE_MOCK;
    expect(binary, "PROVISIONER_STRIPE_MOCK: run through `npm test`, which builds stripe-mock").toBeTruthy();
    const port = await freePort();
    mock = spawn(binary!, ["-http-port", String(port), "-https-port", String(await freePort())], { stdio: "ignore" });
    mockBase = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`${mockBase}/v1/customers`, { headers: { authorization: "Bearer sk_test_123" } }).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 300) throw new Error("stripe-mock did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    proxy = recordingProxy(mockBase);
    server = await startTestServer(
      { STRIPE_API_KEY: "sk_test_123", STRIPE_API_BASE: await proxy.listen(), USAGE_REPORT_INTERVAL_SECONDS: "0" },
      { runWorker: false, deliverWebhooks: false },
    );
  });
  afterAll(async () => {
    await server?.service.db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
    await server?.service.db.team.deleteMany({ where: { id: { in: teamIds } } });
    await server?.close();
    await proxy?.close();
    mock?.kill();
  });

  it("the mock's spec has the meter events endpoint and validates it", async () => {
    const invalid = await fetch(`${mockBase}/v1/billing/meter_events`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_123", "content-type": "application/x-www-form-urlencoded" },
      body: "event_name=x",
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain("object property 'payload' is required");
  });

  it("a team links a Stripe customer; hours are recorded, then sent once each with their identifier as Idempotency-Key, even across a crash between recording and sending", async () => {
    const db = server.service.db;
    const { team, apiKey } = await new TeamService(db).create(`s${crypto.randomBytes(4).toString("hex")}`, "BASIC");
    teamIds.push(team.id);
    const api = client(server.base, apiKey);
    const linked = await api.post("/v1/team/billing/stripe-customer");
    expect(linked.status).toBe(201);
    expect(linked.body).toMatchObject({ enabled: true, stripeCustomerId: expect.stringMatching(/^cus_/) });
    const customerCall = proxy.calls.find((c) => c.path === "/v1/customers" && c.method === "POST")!;
    expect(customerCall).toMatchObject({
      status: 200,
      idempotencyKey: `provisioner-customer-${team.id}`,
      stripeVersion: "2026-10-28.endive",
    });
    expect((await api.post("/v1/team/billing/stripe-customer")).status).toBe(409);

    // A postgres-small (0.08 $/h) running since the start of an hour 5 hours back; the team linked then.
    const t0 = new Date(Math.floor((Date.now() - 5 * hourMs) / hourMs) * hourMs);
    await db.team.update({ where: { id: team.id }, data: { stripeLinkedAt: t0 } });
    const created = await api.post("/v1/resources", { template: "postgres-small", name: "billed" });
    await db.operation.updateMany({
      where: { resourceId: created.body.resource.id },
      data: { status: "SUCCEEDED", finishedAt: new Date() },
    });
    await new ResourceStatuses(db, () => t0).markActive(created.body.resource.id);

    const stripe = stripeClient(server.config.billing)!;
    const settings = { meterEventName: "provisioner_usage_cents", intervalSeconds: 0 };
    const clock = () => new Date(t0.getTime() + 3 * hourMs + 60_000);
    // Recorded, then the service dies before sending (nothing sent yet).
    const dying = new UsageReporter(db, stripe, settings, pino({ level: "silent" }), clock);
    expect(await dying.record()).toBe(3);
    const rows = await db.usageReport.findMany({ where: { teamId: team.id }, orderBy: { periodStart: "asc" } });
    expect(rows.map((r) => [r.periodStart.getTime() - t0.getTime(), r.valueCents, r.state])).toEqual([
      [0, 8, "PENDING"],
      [hourMs, 8, "PENDING"],
      [2 * hourMs, 8, "PENDING"],
    ]);
    expect(meterEvents(proxy.calls)).toHaveLength(0);

    // The next instance: records nothing new for the same hours, sends each row once; the first answer is a 503, retried with the same key.
    proxy.state.failNext = 1;
    const next = new UsageReporter(db, stripe, settings, pino({ level: "silent" }), clock);
    expect(await next.record()).toBe(0);
    expect(await next.send()).toBe(3);
    expect(await next.send()).toBe(0);
    const events = meterEvents(proxy.calls);
    expect(events.map((e) => e.status)).toEqual([503, 200, 200, 200]);
    expect(events[0]!.idempotencyKey).toBe(events[1]!.idempotencyKey);
    const accepted = events.filter((e) => e.status === 200);
    expect(accepted.map((e) => e.idempotencyKey)).toEqual(rows.map((r) => r.identifier));
    for (const [i, event] of accepted.entries()) {
      expect(event.form.get("identifier")).toBe(rows[i]!.identifier);
      expect(event.form.get("event_name")).toBe("provisioner_usage_cents");
      expect(event.form.get("payload[stripe_customer_id]")).toBe(linked.body.stripeCustomerId);
      expect(event.form.get("payload[value]")).toBe("8");
      expect(JSON.parse(event.answer).object).toBe("billing.meter_event");
    }
    const sent = await db.usageReport.findMany({ where: { teamId: team.id } });
    expect(sent.every((r) => r.state === "SENT" && r.sentAt !== null)).toBe(true);

    // A crash after Stripe answered but before the row was marked: sent again under the same identifier and key (Stripe deduplicates on them).
    await db.usageReport.update({ where: { id: rows[0]!.id }, data: { state: "PENDING", sentAt: null } });
    expect(await next.send()).toBe(1);
    const again = meterEvents(proxy.calls).at(-1)!;
    expect([again.idempotencyKey, again.form.get("identifier")]).toEqual([rows[0]!.identifier, rows[0]!.identifier]);

    // An hour later: one more row, the hour's 8 cents; the month's rows add up to the month's cost to the cent.
    const later = new UsageReporter(db, stripe, settings, pino({ level: "silent" }), () => new Date(clock().getTime() + hourMs));
    expect(await later.record()).toBe(1);
    expect(await later.send()).toBe(1);
    const all = await db.usageReport.findMany({ where: { teamId: team.id } });
    expect(all.reduce((n, r) => n + r.valueCents, 0)).toBe(32);
  });
});
