// The console's API (issue 14) over HTTP against the real database: sessions
// (cookie, CSRF, revocation, expiry, sign-out), the team's quota, keys and
// audit log, and the team-wide event stream. No worker: rows are made directly.
import crypto from "node:crypto";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventLog } from "../core/event-log.js";
import { storedResource } from "../test/rows.js";
import { client, type Client } from "../test/service-client.js";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { TeamService } from "./teams.service.js";

describe("the console's API", () => {
  let server: TestServer;
  let key: string;
  let teamId: string;
  let owner: Client;
  let otherKey: string;
  let otherTeamId: string;

  beforeAll(async () => {
    server = await startTestServer({}, { runWorker: false });
    const teams = new TeamService(server.service.db);
    const a = await teams.create(`s${crypto.randomBytes(3).toString("hex")}`, "BASIC");
    const b = await teams.create(`t${crypto.randomBytes(3).toString("hex")}`);
    ({ apiKey: key } = a);
    teamId = a.team.id;
    owner = client(server.base, key);
    otherKey = b.apiKey;
    otherTeamId = b.team.id;
  });
  afterAll(async () => {
    await server?.close();
  });

  const signIn = async (apiKey: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.base}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ apiKey }),
    });
    const setCookie = response.headers.get("set-cookie") ?? "";
    return { status: response.status, body: (await response.json()) as any, setCookie, cookie: setCookie.split(";")[0]! };
  };
  const withCookie = (cookie: string, method: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.base}${path}`, { method, headers: { cookie, ...headers } });

  it("when the key is wrong, then 401 and no cookie; a malformed body is a 400 naming the field", async () => {
    const wrong = await signIn(`prov_000000000000_${"a".repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBe("");
    const bad = await fetch(`${server.base}/v1/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.fields).toEqual([expect.objectContaining({ field: "apiKey" })]);
  });

  it("exchanges a key for an HttpOnly SameSite=Strict cookie (Secure behind TLS) that acts for the team", async () => {
    const { status, body, setCookie, cookie } = await signIn(key);
    expect(status).toBe(201);
    expect(setCookie).toMatch(/^provisioner_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43\d{3}$/);
    expect(setCookie).not.toContain(key);
    expect(body).toMatchObject({ team: { id: teamId, tier: "BASIC" }, session: { csrfToken: expect.any(String) } });
    const team = await withCookie(cookie, "GET", "/v1/team");
    expect(team.status).toBe(200);
    expect(await team.json()).toMatchObject({ id: teamId, quota: { resources: { used: 0, limit: 10 } } });
    expect((await signIn(key, { "x-forwarded-proto": "https" })).setCookie).toMatch(/; Secure$/);
  });

  it("refuses a session's state-changing request without its CSRF token, and accepts it with it", async () => {
    const { cookie, body } = await signIn(key);
    expect((await withCookie(cookie, "POST", "/v1/team/api-keys")).status).toBe(403);
    expect((await withCookie(cookie, "POST", "/v1/team/api-keys", { "x-csrf-token": "x".repeat(43) })).status).toBe(403);
    const created = await withCookie(cookie, "POST", "/v1/team/api-keys", { "x-csrf-token": body.session.csrfToken });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ apiKey: expect.stringMatching(/^prov_/), current: false, revokedAt: null });
  });

  it("ends a key's sessions and the key itself at once when it is revoked; the key of the request cannot revoke itself", async () => {
    const created = (await owner.post("/v1/team/api-keys")).body;
    const session = await signIn(created.apiKey);
    expect((await withCookie(session.cookie, "GET", "/v1/team")).status).toBe(200);
    expect((await client(server.base, created.apiKey).get("/v1/team")).status).toBe(200);
    expect((await client(server.base, created.apiKey).delete(`/v1/team/api-keys/${created.id}`)).status).toBe(409);
    expect((await client(server.base, otherKey).delete(`/v1/team/api-keys/${created.id}`)).status).toBe(404);

    const revoked = await owner.delete(`/v1/team/api-keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await withCookie(session.cookie, "GET", "/v1/team")).status).toBe(401);
    expect((await client(server.base, created.apiKey).get("/v1/team")).status).toBe(401);
    expect((await signIn(created.apiKey)).status).toBe(401);
    const audit = (await owner.get("/v1/team/audit")).body.entries.map((e: any) => e.action);
    expect(audit.slice(0, 2)).toEqual(["api_key.revoke", "api_key.create"]);
  });

  it("ends a session when it expires, and on sign-out", async () => {
    const expiring = await signIn(key);
    await server.service.db
      .$executeRaw`UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE csrf_token = ${expiring.body.session.csrfToken}`;
    expect((await withCookie(expiring.cookie, "GET", "/v1/team")).status).toBe(401);

    const { cookie, body } = await signIn(key);
    const out = await withCookie(cookie, "DELETE", "/v1/session", { "x-csrf-token": body.session.csrfToken });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await withCookie(cookie, "GET", "/v1/session")).status).toBe(401);
  });

  it("streams the team's events, and only the team's, on one stream", { timeout: 30_000 }, async () => {
    const mine = await storedResource(server.service.db, teamId, { name: "mine" });
    const theirs = await storedResource(server.service.db, otherTeamId, { name: "theirs" });
    const events = new EventLog(server.service.db);
    const controller = new AbortController();
    const response = await fetch(`${server.base}/v1/events`, {
      headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const messages: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (m) => void messages.push(m) });
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body!) {
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
          if (messages.length >= 2) break;
        }
      } catch {
        // aborted
      }
    })();
    await events.record({ resourceId: theirs.id, stage: "initialising", progress: 0, message: "theirs" });
    await events.record({ resourceId: mine.id, stage: "initialising", progress: 0, message: "mine starts" });
    await events.record({ resourceId: mine.id, stage: "complete", progress: 100, message: "mine done" });
    await reading;
    controller.abort();
    expect(messages.map((m) => [m.event, JSON.parse(m.data).resourceName, JSON.parse(m.data).message])).toEqual([
      ["initialising", "mine", "mine starts"],
      ["complete", "mine", "mine done"],
    ]);
    const json = (await owner.get("/v1/events")).body.events;
    expect(json.map((e: any) => e.resourceId)).toEqual([mine.id, mine.id]);
  });
});
