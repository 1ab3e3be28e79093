// /v1/resources in-process against the real database, with no worker running:
// what is accepted, refused, queued and cancelled before any engine runs.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, discardUnfinishedOperations, type Client } from "../test/service-client.js";
import { templates } from "../components/templates/index.js";
import { TeamService } from "./teams.service.js";
import { startTestServer, type TestServer } from "../test/test-server.js";
import type { Tier } from "../prisma/generated/client.js";

describe("/v1/resources without a worker", () => {
  let server: TestServer;
  const teamIds: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({}, { runWorker: false });
  });
  afterAll(async () => {
    // Nothing queued here may run in a later test file's worker.
    await discardUnfinishedOperations(server.service.db, { teamIds });
    await server.close();
  });

  async function newTeamWithKey(tier: Tier = "PRO"): Promise<{ api: Client; teamId: string; key: string }> {
    const { team, apiKey } = await new TeamService(server.service.db).create(`a${crypto.randomBytes(4).toString("hex")}`, tier);
    teamIds.push(team.id);
    return { api: client(server.base, apiKey), teamId: team.id, key: apiKey };
  }
  const newTeam = newTeamWithKey;

  const storage = (name: string, extra: Record<string, unknown> = {}) => ({
    template: "small-storage",
    name,
    options: { publicNetwork: false },
    ...extra,
  });
  const counts = async (teamId: string) => ({
    resources: await server.service.db.resource.count({ where: { teamId } }),
    operations: await server.service.db.operation.count({ where: { resource: { teamId } } }),
  });

  describe("bad input gets a 4xx naming the field and creates nothing", () => {
    // [what, body, status, code, the field named (null: the body as a whole, no fields)]
    const cases: [string, unknown, number, string, string | null][] = [
      ["malformed JSON", "{not json", 400, "malformed_json", null],
      ["a wrong type", { template: "small-storage", name: 42 }, 400, "invalid_request", "name"],
      ["an unknown field", { ...storage("ok"), colour: "blue" }, 400, "invalid_request", "colour"],
      ["a name that is not a DNS label", storage("Bad_Name"), 400, "invalid_request", "name"],
      ["a name too long", storage("a".repeat(41)), 400, "invalid_request", "name"],
      ["an unknown template", { template: "mysql", name: "db" }, 400, "invalid_request", "template"],
      ["a size the template lacks", storage("s", { size: "huge" }), 400, "invalid_request", "size"],
      ["an unknown option", storage("o", { options: { replicas: 3 } }), 400, "invalid_request", "options.replicas"],
      [
        "an option of the wrong type",
        { template: "ipfs-cluster-small", name: "c", options: { peers: "three" } },
        400,
        "invalid_request",
        "options.peers",
      ],
      ["an unknown target", storage("t", { target: "mainframe" }), 400, "invalid_request", "target"],
      ["a missing body", undefined, 400, "invalid_request", "template"],
    ];
    it.each(cases)("%s", async (_what, body, status, code, field) => {
      const { api, teamId } = await newTeam();
      const reply = await api.raw("POST", "/v1/resources", body, { "content-type": "application/json" });
      expect(reply.status).toBe(status);
      expect(reply.body.error.code).toBe(code);
      if (field === null) expect(reply.body.error.fields).toBeUndefined();
      else expect(reply.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(await counts(teamId)).toEqual({ resources: 0, operations: 0 });
    });

    it("an oversized body: 413", async () => {
      const { api, teamId } = await newTeam();
      const reply = await api.post("/v1/resources", storage("big", { options: { publicNetwork: false, pad: "x".repeat(70_000) } }));
      expect(reply.status).toBe(413);
      expect(reply.body.error.code).toBe("body_too_large");
      expect(await counts(teamId)).toEqual({ resources: 0, operations: 0 });
    });
  });

  it("when the key is missing, then 401; another team's resource is a 404", async () => {
    const { api } = await newTeam();
    const created = await api.post("/v1/resources", storage("mine"));
    expect((await client(server.base).post("/v1/resources", storage("x"))).status).toBe(401);
    const { api: stranger } = await newTeam();
    for (const path of ["", "/credentials", "/events", "/operations"])
      expect((await stranger.get(`/v1/resources/${created.body.resource.id}${path}`)).status).toBe(404);
    expect((await stranger.delete(`/v1/resources/${created.body.resource.id}`)).status).toBe(404);
    expect((await stranger.get("/v1/resources/not-a-uuid")).status).toBe(404);
  });

  it("a cloud target without the service's credentials is a 400 naming target; with them, accepted", async () => {
    const { api, teamId } = await newTeam();
    const refused = await api.post("/v1/resources", storage("cloud", { target: "hetzner" }));
    expect(refused.status).toBe(400);
    expect(refused.body.error.fields).toEqual([{ field: "target", message: "is not configured on this service (it needs HCLOUD_TOKEN)" }]);
    expect(await counts(teamId)).toEqual({ resources: 0, operations: 0 });
    const configured = await startTestServer(
      { HCLOUD_TOKEN: "placeholder", PROVISIONER_CLOUD_SSH_CIDRS: "198.51.100.0/24" },
      { runWorker: false },
    );
    try {
      const { apiKey, team: extraTeam } = await new TeamService(server.service.db).create(
        `h${crypto.randomBytes(4).toString("hex")}`,
        "PRO",
      );
      teamIds.push(extraTeam.id);
      const accepted = await client(configured.base, apiKey).post("/v1/resources", storage("cloud", { target: "hetzner" }));
      expect(accepted.status).toBe(202);
      expect(accepted.body.resource.target).toBe("hetzner");
      const catalogue = (await client(configured.base, apiKey).get("/v1/templates")).body.templates;
      expect(catalogue[0].targets).toEqual(["docker-host", "hetzner"]);
      expect(JSON.stringify(accepted.body)).not.toContain("placeholder");
    } finally {
      await configured.close();
    }
  });

  it("Idempotency-Key: the same key and body give the same resource; another body is a 409", async () => {
    const { api, teamId } = await newTeam();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const first = await api.post("/v1/resources", storage("idem"), headers);
    const again = await api.post("/v1/resources", { options: { publicNetwork: false }, name: "idem", template: "small-storage" }, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.resource.id).toBe(first.body.resource.id);
    expect(again.body.operation.id).toBe(first.body.operation.id);
    const other = await api.post("/v1/resources", storage("idem2"), headers);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(await counts(teamId)).toEqual({ resources: 1, operations: 1 });
  });

  it("concurrent requests with one new Idempotency-Key create one resource", async () => {
    const { api, teamId } = await newTeam();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const replies = await Promise.all(Array.from({ length: 5 }, () => api.post("/v1/resources", storage("race"), headers)));
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(replies.map((r) => r.body.resource.id)).size).toBe(1);
    expect(await counts(teamId)).toEqual({ resources: 1, operations: 1 });
  });

  it("a name in use is a 409 naming the field; a deleted resource's name is free again", async () => {
    const { api } = await newTeam();
    const first = await api.post("/v1/resources", storage("dup"));
    const second = await api.post("/v1/resources", storage("dup"));
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: "name_taken", fields: [{ field: "name" }] });
    await server.service.db.resource.update({ where: { id: first.body.resource.id }, data: { status: "DELETED" } });
    expect((await api.post("/v1/resources", storage("dup"))).status).toBe(202);
  });

  it("quotas: the FREE tier's resource count and CPU limits, with the limit named, nothing created", async () => {
    const { api, teamId } = await newTeam("FREE");
    // ipfs-cluster-small at medium: 3 Kubo nodes × 1 CPU + 3 cluster peers × 0.5 + the metrics proxy (0.1) + the gateway balancer (0.2) > the FREE tier's 4.
    const big = await api.post("/v1/resources", { template: "ipfs-cluster-small", name: "big", size: "medium" });
    expect(big.status).toBe(403);
    expect(big.body.error.code).toBe("quota_exceeded");
    expect(big.body.error.message).toMatch(/cpus: 0 used \+ 4.8 requested > 4/);
    for (const name of ["q1", "q2", "q3"]) expect((await api.post("/v1/resources", storage(name))).status).toBe(202);
    const fourth = await api.post("/v1/resources", storage("q4"));
    expect(fourth.status).toBe(403);
    expect(fourth.body.error.message).toMatch(/resources: 3 used \+ 1 requested > 3/);
    expect(await counts(teamId)).toEqual({ resources: 3, operations: 3 });
  });

  it("quotas: the FREE tier holds one postgres-small with its sidecars (3.5 CPUs, 4.5 GB), not a postgres-medium", async () => {
    const { api, teamId } = await newTeam("FREE");
    const medium = await api.post("/v1/resources", { template: "postgres-medium", name: "replicated" });
    expect(medium.status).toBe(403);
    expect(medium.body.error.message).toMatch(/cpus: 0 used \+ 9.5 requested > 4; memoryMb: 0 used \+ 33536 requested > 8192/);
    const small = await api.post("/v1/resources", { template: "postgres-small", name: "orders" });
    expect(small.status).toBe(202);
    const row = await server.service.db.resource.findUniqueOrThrow({ where: { id: small.body.resource.id } });
    expect({ cpus: Number(row.cpus), memoryMb: row.memoryMb }).toEqual({ cpus: 3.5, memoryMb: 4608 });
    // What is left (0.5 CPU) does not hold a second one.
    expect((await api.post("/v1/resources", { template: "postgres-small", name: "orders2" })).status).toBe(403);
    expect(await counts(teamId)).toEqual({ resources: 1, operations: 1 });
  });

  it("concurrent creates cannot both take the last quota slot", async () => {
    const { api, teamId } = await newTeam("FREE");
    const replies = await Promise.all(["c1", "c2", "c3", "c4", "c5"].map((name) => api.post("/v1/resources", storage(name))));
    expect(replies.filter((r) => r.status === 202)).toHaveLength(3);
    expect(replies.filter((r) => r.status === 403)).toHaveLength(2);
    expect((await counts(teamId)).resources).toBe(3);
  });

  it("a mutating request while another is pending is queued behind it, and says so", async () => {
    const { api } = await newTeam();
    const created = await api.post("/v1/resources", storage("busy"));
    const id = created.body.resource.id;
    const refresh = await api.post(`/v1/resources/${id}/refresh`);
    expect(refresh.status).toBe(202);
    expect(refresh.body).toMatchObject({ queued: true, operation: { kind: "REFRESH", status: "QUEUED", ahead: 1 } });
    const deleted = await api.delete(`/v1/resources/${id}`);
    expect(deleted.body).toMatchObject({ queued: true, operation: { kind: "DELETE", ahead: 2 } });
    // DELETE twice is the same DELETE; nothing else is accepted after it.
    expect((await api.delete(`/v1/resources/${id}`)).body.operation.id).toBe(deleted.body.operation.id);
    expect((await api.patch(`/v1/resources/${id}`, { options: { publicNetwork: true } })).status).toBe(409);
    const operations = (await api.get(`/v1/resources/${id}/operations`)).body.operations;
    expect(operations.map((o: { kind: string }) => o.kind)).toEqual(["CREATE", "REFRESH", "DELETE"]);
  });

  it("PATCH validates against the template: a bad size or option is a 400 and queues nothing", async () => {
    const { api } = await newTeam();
    const id = (await api.post("/v1/resources", storage("patchy"))).body.resource.id;
    expect((await api.patch(`/v1/resources/${id}`, { size: "huge" })).body.error.fields[0].field).toBe("size");
    expect((await api.patch(`/v1/resources/${id}`, { options: { nope: 1 } })).body.error.fields[0].field).toBe("options.nope");
    expect((await api.patch(`/v1/resources/${id}`, {})).status).toBe(400);
    expect((await api.get(`/v1/resources/${id}/operations`)).body.operations).toHaveLength(1);
  });

  it("cancel before the operation starts: CANCELLED, the resource FAILED with the reason", async () => {
    const { api } = await newTeam();
    const id = (await api.post("/v1/resources", storage("stop"))).body.resource.id;
    const cancelled = await api.post(`/v1/resources/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.operation).toMatchObject({ kind: "CREATE", status: "CANCELLED" });
    expect((await api.get(`/v1/resources/${id}`)).body).toMatchObject({ status: "FAILED", lastError: "cancelled before it started" });
    expect((await api.post(`/v1/resources/${id}/cancel`)).status).toBe(409);
  });

  it("lists newest first in pages, filtered by status and template", async () => {
    const { api } = await newTeam("ENTERPRISE");
    for (const name of ["p1", "p2", "p3", "p4", "p5"]) await api.post("/v1/resources", storage(name));
    await api.post("/v1/resources", { template: "postgres-small", name: "pg" });
    const first = await api.get("/v1/resources?limit=2&template=small-storage");
    expect(first.body.resources.map((r: { name: string }) => r.name)).toEqual(["p5", "p4"]);
    const second = await api.get(`/v1/resources?limit=2&template=small-storage&cursor=${first.body.nextCursor}`);
    expect(second.body.resources.map((r: { name: string }) => r.name)).toEqual(["p3", "p2"]);
    const third = await api.get(`/v1/resources?limit=2&template=small-storage&cursor=${second.body.nextCursor}`);
    expect(third.body).toMatchObject({ resources: [{ name: "p1" }], nextCursor: null });
    expect((await api.get("/v1/resources?status=ACTIVE")).body.resources).toEqual([]);
    expect((await api.get("/v1/resources?status=SLEEPING")).body.error.fields[0].field).toBe("query.status");
    expect((await api.get("/v1/resources?limit=1000")).body.error.fields[0].field).toBe("query.limit");
  });

  it("serves an OpenAPI 3.1 document whose request schemas are the ones that validate", async () => {
    const reply = await client(server.base).get("/v1/openapi.json");
    expect(reply.status).toBe(200);
    expect(reply.body.openapi).toBe("3.1.0");
    // One body per template, each with that template's options and their limits.
    const create = reply.body.paths["/v1/resources"].post.requestBody.content["application/json"].schema;
    const cluster = create.oneOf.find(
      (body: { properties: { template: { const: string } } }) => body.properties.template.const === "ipfs-cluster-small",
    );
    expect(cluster.required).toEqual(["template", "name"]);
    expect(cluster.additionalProperties).toBe(false);
    expect(cluster.properties.options.properties.peers).toMatchObject({ type: "integer", minimum: 1, maximum: 9 });
    expect(create.oneOf.map((body: { properties: { template: { const: string } } }) => body.properties.template.const).sort()).toEqual(
      Object.keys(templates).sort(),
    );
    expect(Object.keys(reply.body.paths)).toEqual(
      expect.arrayContaining(["/v1/resources/{id}/events", "/v1/resources/{id}/cancel", "/metrics"]),
    );
  });

  it("events are listable as JSON", async () => {
    const { api } = await newTeam();
    const id = (await api.post("/v1/resources", storage("ev"))).body.resource.id;
    const { events } = (await api.get(`/v1/resources/${id}/events`)).body;
    expect(events).toMatchObject([{ stage: "queued", progress: 0 }]);
    expect((await api.get(`/v1/resources/${id}/events?after=${events[0].id}`)).body.events).toEqual([]);
  });

  it("GET /metrics needs the scrape token (a team's key is not it); without a token configured it is off (404)", async () => {
    const token = crypto.randomBytes(24).toString("hex");
    const scraped = await startTestServer({ PROVISIONER_SCRAPE_TOKEN: token }, { runWorker: false });
    try {
      const { apiKey, team: extraTeam } = await new TeamService(server.service.db).create(
        `m${crypto.randomBytes(4).toString("hex")}`,
        "PRO",
      );
      teamIds.push(extraTeam.id);
      expect((await client(scraped.base).get("/metrics")).status).toBe(401);
      expect((await client(scraped.base, apiKey).get("/metrics")).body.error.code).toBe("unauthenticated");
      await client(scraped.base, apiKey).post("/v1/resources", storage("metered"));
      const text = await (await fetch(`${scraped.base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      for (const name of [
        "http_request_duration_seconds_bucket",
        "provisioner_queue_depth",
        "provisioner_resources",
        "provisioner_operations_in_flight",
        "process_resident_memory_bytes",
      ]) {
        expect(text).toContain(name);
      }
      expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/resources",status_code="202"\} \d+/);
    } finally {
      await scraped.close();
    }
    const off = await client(server.base, "anything").get("/metrics");
    expect(off.status).toBe(404);
    expect(off.body.error).toEqual({ code: "not_configured", message: "/metrics is off: set PROVISIONER_SCRAPE_TOKEN" });
  });

  describe("bad input and races never answer 500", () => {
    it("a cursor of the documented shape is taken, even one this API did not return", async () => {
      const { api } = await newTeam();
      const reply = await api.get(`/v1/resources?cursor=99999999999999.${crypto.randomUUID()}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ resources: [], nextCursor: null });
    });

    it("a malformed cursor is a 400 naming it", async () => {
      const { api } = await newTeam();
      const b64 = (text: string) => Buffer.from(text).toString("base64url");
      const id = crypto.randomUUID();
      for (const cursor of [
        "garbage",
        "1764000000000.not-a-uuid",
        ".",
        `-1.${id}`,
        `1${"0".repeat(14)}.${id}`,
        `1764000000000.${id}.x`,
        b64(`2026-01-01T00:00:00.000Z|${id}`),
      ]) {
        const reply = await api.get(`/v1/resources?cursor=${cursor}`);
        expect(reply.status, cursor).toBe(400);
        expect(reply.body.error.fields, cursor).toEqual([{ field: "query.cursor", message: "is not valid" }]);
      }
    });

    it("an event id out of range or not a number (?after=, Last-Event-ID) is a 400 naming it", async () => {
      const { api, key } = await newTeamWithKey();
      const id = (await api.post("/v1/resources", storage("ids"))).body.resource.id;
      for (const after of ["99999999999999999999", "9223372036854775808", "1e30", "-1", "x"]) {
        const reply = await api.get(`/v1/resources/${id}/events?after=${after}`);
        expect(reply.status, after).toBe(400);
        expect(reply.body.error.fields[0].field, after).toBe("query.after");
      }
      for (const lastEventId of ["99999999999999999999", "abc", "-5", "9223372036854775807"]) {
        const reply = await fetch(`${server.base}/v1/resources/${id}/events`, {
          headers: { authorization: `Bearer ${key}`, accept: "text/event-stream", "last-event-id": lastEventId },
        });
        expect(reply.status, lastEventId).toBe(400);
        expect(((await reply.json()) as { error: { fields: { field: string }[] } }).error.fields[0]!.field).toBe("Last-Event-ID");
      }
      expect((await api.get(`/v1/resources/${id}/events?after=9223372036854775807`)).body.events).toEqual([]);
    });

    it("concurrent cancels of a queued operation: one cancels it, the others are 202 or 409, none 500", async () => {
      const { api } = await newTeam();
      for (const name of ["twice1", "twice2", "twice3"]) {
        const id = (await api.post("/v1/resources", storage(name))).body.resource.id;
        const replies = await Promise.all(Array.from({ length: 20 }, () => api.post(`/v1/resources/${id}/cancel`)));
        const statuses = replies.map((r) => r.status);
        expect(
          statuses.every((status) => status === 202 || status === 409),
          statuses.join(","),
        ).toBe(true);
        expect(statuses).toContain(202);
        expect((await api.get(`/v1/resources/${id}/operations`)).body.operations).toMatchObject([{ kind: "CREATE", status: "CANCELLED" }]);
      }
    });

    it("concurrent cancels of a running operation all answer 202 with it", async () => {
      const { api } = await newTeam();
      const created = (await api.post("/v1/resources", storage("running"))).body;
      await server.service.db.operation.update({
        where: { id: created.operation.id },
        data: { status: "RUNNING", leaseOwner: "nobody", leaseExpiresAt: new Date(Date.now() + 600_000) },
      });
      const replies = await Promise.all(Array.from({ length: 6 }, () => api.post(`/v1/resources/${created.resource.id}/cancel`)));
      expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
      expect(new Set(replies.map((r) => r.body.operation.id))).toEqual(new Set([created.operation.id]));
    });

    it("a PATCH and a DELETE at once: an UPDATE accepted is queued before the DELETE, never after it", async () => {
      const { api } = await newTeam("ENTERPRISE");
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push((await api.post("/v1/resources", storage(`race${i}`))).body.resource.id as string);
      await Promise.all(
        ids.map((id) => Promise.all([api.patch(`/v1/resources/${id}`, { size: "medium" }), api.delete(`/v1/resources/${id}`)])),
      );
      for (const id of ids) {
        const kinds = (await api.get(`/v1/resources/${id}/operations`)).body.operations.map((o: { kind: string }) => o.kind);
        expect(kinds.at(-1), kinds.join(",")).toBe("DELETE");
      }
    });
  });

  describe("PATCH", () => {
    it("options merge into the current options: a PATCH of publicNetwork keeps a 9-peer cluster at 9", async () => {
      const { api } = await newTeam("ENTERPRISE");
      const created = (
        await api.post("/v1/resources", { template: "ipfs-cluster-small", name: "nine", options: { peers: 9, publicNetwork: false } })
      ).body;
      const patched = await api.patch(`/v1/resources/${created.resource.id}`, { options: { publicNetwork: true } });
      expect(patched.status).toBe(202);
      const params = async (operationId: string) =>
        (await server.service.db.operation.findUniqueOrThrow({ where: { id: operationId } })).params as {
          options: Record<string, unknown>;
        };
      expect((await params(patched.body.operation.id)).options).toMatchObject({ peers: 9, publicNetwork: true });
      // Behind a queued PATCH, another merges into what that one will make.
      const fewer = await api.patch(`/v1/resources/${created.resource.id}`, { options: { peers: 5 } });
      const size = await api.patch(`/v1/resources/${created.resource.id}`, { size: "medium" });
      expect((await params(fewer.body.operation.id)).options).toMatchObject({ peers: 5, publicNetwork: true });
      expect((await params(size.body.operation.id)).options).toMatchObject({ peers: 5, publicNetwork: true });
    });

    it("versions: a newer patch release is queued; a major change or a non-version is a 400 naming the field, a downgrade or an image the template lacks a 409", async () => {
      const { api } = await newTeam("ENTERPRISE");
      const id = (await api.post("/v1/resources", { template: "ipfs-cluster-small", name: "versioned", options: { publicNetwork: false } }))
        .body.resource.id;
      const refused = async (versions: Record<string, string>, field: string, status = 400) => {
        const response = await api.patch(`/v1/resources/${id}`, { versions });
        expect(response.status).toBe(status);
        expect(response.body.error.fields[0].field).toBe(field);
      };
      // The service's images are Kubo 0.39.0 and ipfs-cluster 1.1.6 (components/images.ts).
      await refused({ kubo: "0.40.0" }, "versions.kubo");
      await refused({ ipfsCluster: "2.0.0" }, "versions.ipfsCluster");
      // Valid for the schema, older than what runs: a conflict with the resource.
      await refused({ ipfsCluster: "1.1.5" }, "versions.ipfsCluster", 409);
      await refused({ ipfsCluster: "1.1" }, "versions.ipfsCluster", 409);
      await refused({ kubo: "latest" }, "versions.kubo");
      // An image the template does not run: valid on its own, not for this resource.
      const foreign = await api.patch(`/v1/resources/${id}`, { versions: { postgres: "15.8" } });
      expect(foreign.status).toBe(409);
      expect(foreign.body.error.fields[0].field).toBe("versions.postgres");
      expect((await api.get(`/v1/resources/${id}/operations`)).body.operations).toHaveLength(1);

      const upgrade = await api.patch(`/v1/resources/${id}`, { versions: { kubo: "v0.39.1" } });
      expect(upgrade.status).toBe(202);
      const { params } = await server.service.db.operation.findUniqueOrThrow({ where: { id: upgrade.body.operation.id } });
      expect(params).toMatchObject({ versions: { kubo: "0.39.1" } });
      // Behind the queued upgrade, going back to what runs now is a downgrade.
      await refused({ kubo: "0.39.0" }, "versions.kubo", 409);
    });

    it("quotas cannot be dodged: a PATCH reserves the larger footprint until it has run; a cancelled one restores what runs", async () => {
      const { api, teamId } = await newTeam("FREE"); // 4 CPUs
      const accounted = async (name: string) => {
        const r = await server.service.db.resource.findFirstOrThrow({ where: { teamId, name } });
        return Number(r.cpus);
      };
      // A storage resource's footprint: its node's size plus the RPC guard (0.25 CPU).
      const big = (await api.post("/v1/resources", storage("big", { size: "large" }))).body; // 2.25 CPUs
      const small = (await api.post("/v1/resources", storage("small"))).body; // 0.75 CPU
      // Both deployed: their CREATEs are done.
      await server.service.db.operation.updateMany({
        where: { id: { in: [big.operation.id, small.operation.id] } },
        data: { status: "SUCCEEDED", finishedAt: new Date() },
      });

      // Shrinking big does not free its 2.25 CPUs while the large system still runs.
      expect((await api.patch(`/v1/resources/${big.resource.id}`, { size: "small" })).status).toBe(202);
      expect(await accounted("big")).toBe(2.25);
      const dodge = await api.post("/v1/resources", storage("third", { size: "large" }));
      expect(dodge.status).toBe(403);
      expect(dodge.body.error.message).toMatch(/cpus: 3 used \+ 2.25 requested > 4/);
      expect((await api.post(`/v1/resources/${big.resource.id}/cancel`)).body.operation).toMatchObject({
        kind: "UPDATE",
        status: "CANCELLED",
      });
      expect(await accounted("big")).toBe(2.25);

      // Growing small reserves the medium size; cancelled, it is back to what runs, and the CPUs are free again.
      expect((await api.patch(`/v1/resources/${small.resource.id}`, { size: "medium" })).status).toBe(202);
      expect(await accounted("small")).toBe(1.25);
      expect((await api.post("/v1/resources", storage("third"))).status).toBe(403); // 2.25 + 1.25 + 0.75 > 4
      await api.post(`/v1/resources/${small.resource.id}/cancel`);
      expect(await accounted("small")).toBe(0.75);
      expect((await api.post("/v1/resources", storage("third"))).status).toBe(202); // 2.25 + 0.75 + 0.75 <= 4
    });
  });

  describe("fair use (limits set low)", () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer(
        { OPERATION_QUEUE_PER_RESOURCE: "3", OPERATION_QUEUE_PER_TEAM: "5", EVENT_STREAMS_PER_TEAM: "2" },
        { runWorker: false },
      );
    });
    afterAll(async () => {
      await discardUnfinishedOperations(limited.service.db, { teamIds });
      await limited.close();
    });
    const limitedTeam = async () => {
      const { apiKey, team: extraTeam } = await new TeamService(limited.service.db).create(
        `l${crypto.randomBytes(4).toString("hex")}`,
        "ENTERPRISE",
      );
      teamIds.push(extraTeam.id);
      return { api: client(limited.base, apiKey), key: apiKey };
    };

    it("at most N queued operations per resource: then 429 with Retry-After, nothing queued; DELETE is still accepted", async () => {
      const { api } = await limitedTeam();
      const id = (await api.post("/v1/resources", storage("full"))).body.resource.id;
      expect((await api.patch(`/v1/resources/${id}`, { size: "medium" })).status).toBe(202);
      expect((await api.patch(`/v1/resources/${id}`, { size: "large" })).status).toBe(202);
      const refused = await api.patch(`/v1/resources/${id}`, { size: "small" });
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(refused.body.error).toMatchObject({ code: "queue_full", message: expect.stringMatching(/3 queued operations \(at most 3\)/) });
      expect((await api.post(`/v1/resources/${id}/refresh`)).status).toBe(429);
      expect((await api.delete(`/v1/resources/${id}`)).status).toBe(202);
      expect((await api.get(`/v1/resources/${id}/operations`)).body.operations.map((o: { kind: string }) => o.kind)).toEqual([
        "CREATE",
        "UPDATE",
        "UPDATE",
        "DELETE",
      ]);
    });

    it("at most N queued operations per team, even from concurrent requests: then 429", async () => {
      const { api } = await limitedTeam();
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => api.post("/v1/resources", storage(`t${i}`))));
      expect(replies.filter((r) => r.status === 202)).toHaveLength(5);
      const refused = replies.filter((r) => r.status === 429);
      expect(refused).toHaveLength(3);
      expect(refused[0]!.headers.get("retry-after")).toMatch(/^\d+$/);
      const id = replies.find((r) => r.status === 202)!.body.resource.id;
      expect((await api.post(`/v1/resources/${id}/refresh`)).status).toBe(429);
    });

    it("a refresh while one is queued is merged into it: 202 with the existing operation", async () => {
      const { api } = await limitedTeam();
      const id = (await api.post("/v1/resources", storage("merge"))).body.resource.id;
      const first = await api.post(`/v1/resources/${id}/refresh`);
      const again = await api.post(`/v1/resources/${id}/refresh`);
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({
        merged: true,
        queued: true,
        operation: { id: first.body.operation.id, kind: "REFRESH", status: "QUEUED" },
      });
      // Behind a change, a refresh checks the changed system: a new one.
      await api.patch(`/v1/resources/${id}`, { size: "medium" });
      const after = await api.post(`/v1/resources/${id}/refresh`);
      expect(after.status).toBe(429); // CREATE, REFRESH, UPDATE: the resource's 3
      expect((await api.get(`/v1/resources/${id}/operations`)).body.operations.map((o: { kind: string }) => o.kind)).toEqual([
        "CREATE",
        "REFRESH",
        "UPDATE",
      ]);
    });

    it("at most N open event streams per team: then 429; another team is not affected; a closed stream frees its slot", async () => {
      const { api, key } = await limitedTeam();
      const id = (await api.post("/v1/resources", storage("watched"))).body.resource.id;
      const open = (apiKey: string, resourceId: string) => {
        const controller = new AbortController();
        const reply = fetch(`${limited.base}/v1/resources/${resourceId}/events`, {
          headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream" },
          signal: controller.signal,
        });
        return { reply, close: () => controller.abort() };
      };
      const streams = [open(key, id), open(key, id)];
      expect((await Promise.all(streams.map((s) => s.reply))).map((r) => r.status)).toEqual([200, 200]);
      const third = await open(key, id).reply;
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe("too_many_streams");

      const other = await limitedTeam();
      const otherId = (await other.api.post("/v1/resources", storage("theirs"))).body.resource.id;
      const theirs = open(other.key, otherId);
      expect((await theirs.reply).status).toBe(200);
      theirs.close();

      streams[0]!.close();
      let reopened: Response | undefined;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const attempt = open(key, id);
        reopened = await attempt.reply;
        attempt.close();
        if (reopened.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reopened!.status).toBe(200);
      streams[1]!.close();
    });
  });
});
