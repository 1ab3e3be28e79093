// Usage, prices and budgets through the API, in-process against the real
// database, without an operation worker: resources' statuses are moved
// through core/resource-status.ts (stamped with a clock hours back, so the
// month has usage to show), as the worker moves them. Budget webhooks are
// delivered over real HTTP to a receiver on 127.0.0.1.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceStatuses } from "../core/resource-status.js";
import type { Tier } from "../prisma/generated/client.js";
import { client, discardUnfinishedOperations, type Client } from "../test/service-client.js";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { startReceiver, until } from "../test/webhook-receiver.js";
import { TeamService } from "./teams.service.js";

const scrapeToken = crypto.randomBytes(16).toString("hex");
const thisMonth = () => new Date().toISOString().slice(0, 7);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe("usage, prices and budgets", () => {
  let server: TestServer;
  const receiver = startReceiver();
  let receiverBase: string;
  const teamIds: string[] = [];

  beforeAll(async () => {
    receiverBase = await receiver.listen();
    server = await startTestServer(
      {
        WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "true",
        WEBHOOK_DELIVERY_INTERVAL_SECONDS: "0.2",
        BUDGET_CHECK_INTERVAL_SECONDS: "0.2",
        PROVISIONER_SCRAPE_TOKEN: scrapeToken,
      },
      { runWorker: false, deliverWebhooks: true },
    );
  });
  afterAll(async () => {
    await discardUnfinishedOperations(server.service.db, { teamIds });
    await server?.close();
    await receiver.close();
  });

  async function newTeam(tier: Tier = "BASIC"): Promise<{ api: Client; teamId: string; apiKey: string }> {
    const { team, apiKey } = await new TeamService(server.service.db).create(`u${crypto.randomBytes(4).toString("hex")}`, tier);
    teamIds.push(team.id);
    return { api: client(server.base, apiKey), teamId: team.id, apiKey };
  }
  const put = (api: Client, path: string, body: unknown) => api.raw("PUT", path, body);

  /** A create accepted by the API, then ACTIVE since `since` (the worker's part, with the clock moved back). */
  async function runningSince(api: Client, body: Record<string, unknown>, since: Date) {
    const created = await api.post("/v1/resources", body);
    expect(created.status).toBe(202);
    const db = server.service.db;
    await db.operation.updateMany({
      where: { resourceId: created.body.resource.id },
      data: { status: "SUCCEEDED", finishedAt: new Date() },
    });
    await new ResourceStatuses(db, () => since).markActive(created.body.resource.id);
    return created.body;
  }

  it("GET /v1/templates and the create's answer show the estimated monthly cost at the caller's tier", async () => {
    const { api } = await newTeam("BASIC");
    const { api: pro } = await newTeam("PRO");
    const spec = (catalogue: any, template: string, size: string) =>
      catalogue.templates.find((t: any) => t.id === template).sizeSpecs[size].estimatedMonthlyCost;
    const basic = (await api.get("/v1/templates")).body;
    // 0.01 $/h × 730 h; 0.16 × 730; a default cluster: 3 nodes × 0.02 × 730.
    expect(spec(basic, "small-storage", "small")).toEqual({
      currency: "usd",
      priceVersion: "2026-11-26",
      usdPerHour: 0.01,
      usdPerMonth: 7.3,
      hoursPerMonth: 730,
    });
    expect(spec(basic, "postgres-small", "medium").usdPerMonth).toBe(116.8);
    expect(spec(basic, "ipfs-cluster-small", "small").usdPerMonth).toBe(43.8);
    expect(spec((await pro.get("/v1/templates")).body, "small-storage", "small").usdPerMonth).toBe(6.57);

    const created = await api.post("/v1/resources", { template: "ipfs-cluster-small", name: "c", options: { peers: 2 } });
    expect(created.status).toBe(202);
    expect(created.body.estimatedMonthlyCost).toMatchObject({ usdPerHour: 0.04, usdPerMonth: 29.2 });
  });

  it("GET /v1/usage gives per-resource lines and the total; the CSV says the same; another team sees none of it; a bad month is a 400", async () => {
    const { api, apiKey } = await newTeam("BASIC");
    const { resource } = await runningSince(api, { template: "postgres-small", name: "metered" }, hoursAgo(5));
    const usage = await api.get(`/v1/usage?month=${thisMonth()}`);
    expect(usage.status).toBe(200);
    // 5 h (and the seconds of this test) × 0.08 $/h = 40 cents.
    expect(usage.body.lines).toHaveLength(1);
    expect(usage.body.lines[0]).toMatchObject({ resourceId: resource.id, name: "metered", template: "postgres-small", costCents: 40 });
    expect(usage.body.lines[0].hours).toBeCloseTo(5, 1);
    expect(usage.body.lines[0].cpuHours).toBeCloseTo(10, 1);
    expect(usage.body.totalCents).toBe(40);

    const csv = await fetch(`${server.base}/v1/usage.csv?month=${thisMonth()}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trim().split("\r\n");
    expect(rows[0]).toBe("month,resource_id,name,template,target,size,tier,price_version,usd_per_hour,from,to,hours,cost_cents");
    expect(rows[1]).toContain(`${resource.id},metered,postgres-small,docker-host,small,BASIC,2026-11-26,0.08,`);
    expect(rows[1]!.endsWith(",40")).toBe(true);
    expect(rows.at(-1)).toMatch(/,total,.*,40$/);

    const { api: stranger } = await newTeam("BASIC");
    expect((await stranger.get(`/v1/usage?month=${thisMonth()}`)).body).toMatchObject({ lines: [], totalCents: 0 });

    // The gauges: by team id, never the team's name.
    const metrics = await (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
    const teamId = (await server.service.db.resource.findUniqueOrThrow({ where: { id: resource.id } })).teamId;
    const teamName = (await server.service.db.team.findUniqueOrThrow({ where: { id: teamId } })).name;
    expect(metrics).toContain(`provisioner_team_cost_month_usd{team_id="${teamId}"} 0.4\n`);
    // About 5 h of 2 CPUs: the segment is still open, so a little more by the time it is read.
    const cpuHours = new RegExp(`provisioner_team_usage_month\\{team_id="${teamId}",quantity="cpu_hours"\\} ([0-9.]+)\n`).exec(metrics);
    expect(Number(cpuHours?.[1])).toBeCloseTo(10, 2);
    expect(
      metrics
        .split("\n")
        .filter((line) => line.startsWith("provisioner_team_"))
        .join("\n"),
    ).not.toContain(teamName);
    const bad = await api.get("/v1/usage?month=2026-13");
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([{ field: "query.month", message: "must be a month, YYYY-MM" }]);
    expect((await api.get("/v1/usage")).status).toBe(400);
  });

  it("at 80 % of the budget the webhook goes out; at 100 % a create is refused with a 403 naming the budget, and nothing is created", async () => {
    const { api, teamId } = await newTeam("BASIC");
    const path = `/budget/${crypto.randomBytes(4).toString("hex")}`;
    expect((await api.post("/v1/webhooks", { url: `${receiverBase}${path}`, events: ["budget.threshold_reached"] })).status).toBe(201);
    await runningSince(api, { template: "postgres-small", name: "spender" }, hoursAgo(5)); // 40 cents so far
    const set = await put(api, "/v1/team/budget", { monthlyBudgetCents: 50 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ monthlyBudgetCents: 50, costCents: 40, overageAllowed: false, exceeded: false });

    // The scheduler's budget check tells the webhook once.
    const first = await until("the 80 % webhook", () => receiver.received.find((r) => r.path === path));
    expect(JSON.parse(first.body)).toMatchObject({
      type: "budget.threshold_reached",
      data: { month: thisMonth(), threshold: 0.8, budgetCents: 50, costCents: 40, currency: "usd", overageAllowed: false },
    });
    // Below 100 %: creates go on.
    expect((await api.post("/v1/resources", { template: "small-storage", name: "still-ok" })).status).toBe(202);

    await put(api, "/v1/team/budget", { monthlyBudgetCents: 40 });
    const before = await server.service.db.resource.count({ where: { teamId } });
    const refused = await api.post("/v1/resources", { template: "small-storage", name: "one-too-many" });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: "budget_exceeded",
      fields: [{ field: "monthlyBudgetCents", message: `budget of 40 cents reached in ${thisMonth()} (40 cents used)` }],
    });
    expect(await server.service.db.resource.count({ where: { teamId } })).toBe(before);
    const hundred = await until("the 100 % webhook", () =>
      receiver.received.filter((r) => r.path === path).find((r) => JSON.parse(r.body).data.threshold === 1),
    );
    expect(JSON.parse(hundred.body).data).toMatchObject({ threshold: 1, budgetCents: 40, costCents: 40 });
    // Each threshold once a month, however often it is checked.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(2);

    // Bad input: a 400 naming the field, nothing changed.
    const bad = await put(api, "/v1/team/budget", { monthlyBudgetCents: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].field).toBe("monthlyBudgetCents");
    expect((await api.get("/v1/team/budget")).body.monthlyBudgetCents).toBe(40);
  });

  it("a tier that allows overage creates past its budget (still told at 100 %)", async () => {
    const { api } = await newTeam("PRO");
    await runningSince(api, { template: "postgres-small", name: "big" }, hoursAgo(5)); // 5 × 0.072 = 36 cents
    await put(api, "/v1/team/budget", { monthlyBudgetCents: 10 });
    const budget = (await api.get("/v1/team/budget")).body;
    expect(budget).toMatchObject({ costCents: 36, exceeded: true, overageAllowed: true });
    expect((await api.post("/v1/resources", { template: "small-storage", name: "more" })).status).toBe(202);
  });

  it("without STRIPE_API_KEY billing is off: linking a Stripe customer is a 409 billing_off", async () => {
    const { api } = await newTeam();
    expect((await api.get("/v1/team/billing")).body).toEqual({ enabled: false, stripeCustomerId: null, linkedAt: null });
    const link = await api.post("/v1/team/billing/stripe-customer");
    expect(link.status).toBe(409);
    expect(link.body.error.code).toBe("billing_off");
  });
});
