// The service end to end, nothing mocked: HTTP → queue → worker → Automation
// API → Pulumi engine → Docker, with small-storage (the fastest template).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../core/logger.js";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { pulumiProject } from "../automation/operation-runner.js";
import { resourceProgram } from "../automation/resource-program.js";
import { openStack } from "../automation/workspace.js";
import { leftovers } from "./deployment.js";
import type { EventSourceMessage } from "eventsource-parser";
import { hostNameOf } from "../components/templates/host-name.js";
import { containersOf, existingVolumes, volumesMountedBy } from "./hardening.js";
import { client, readEvents, waitForOperation, type Client, type Reply } from "./service-client.js";

const sixStages = ["initialising", "allocating", "configuring", "provisioning", "verifying", "complete"];

describe("the provisioning service, end to end", () => {
  const logLines: string[] = [];
  let server: TestServer;
  let owner: Client;
  let ownerKey: string;
  let other: Client;
  let teamName: string;
  /** Created in beforeAll and only read by the tests: the SSE messages of its create, its id. */
  const shared = { name: `svc${process.pid}`, id: "", messages: [] as EventSourceMessage[], createReply: undefined as unknown as Reply };

  beforeAll(async () => {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => (
        logLines.push(chunk.toString()),
        process.env.DEBUG_SERVICE && process.stderr.write(chunk),
        done()
      ),
    });
    server = await startTestServer({}, { logger: createLogger("debug", sink) });
    const teams = new TeamService(server.service.db);
    teamName = `o${crypto.randomBytes(3).toString("hex")}`;
    ({ apiKey: ownerKey } = await teams.create(teamName, "PRO"));
    owner = client(server.base, ownerKey);
    other = client(server.base, (await teams.create(`x${crypto.randomBytes(3).toString("hex")}`)).apiKey);
    shared.createReply = await owner.post("/v1/resources", {
      template: "small-storage",
      name: shared.name,
      options: { publicNetwork: false },
    });
    shared.id = shared.createReply.body.resource.id;
    shared.messages = await readEvents(server.base, ownerKey, shared.id, (m) => m.event === "complete" || m.event === "failed");
  }, 300_000);

  afterAll(async () => {
    if (shared.id) {
      const deleted = await owner.delete(`/v1/resources/${shared.id}`);
      if (deleted.body?.operation) await waitForOperation(owner, shared.id, deleted.body.operation.id, 180_000);
    }
    await server?.close();
  }, 240_000);

  it("creates: 202 PROVISIONING, the six stages in order over SSE, then ACTIVE with an endpoint", async () => {
    const { createReply: created, messages, id, name } = shared;
    expect(created.status).toBe(202);
    expect(created.body.resource).toMatchObject({ name, template: "small-storage", status: "PROVISIONING", target: "docker-host" });
    expect(created.body.operation).toMatchObject({ kind: "CREATE", status: "QUEUED" });

    const events = messages.map(
      (m) => JSON.parse(m.data) as { stage: string; progress: number; message: string; detail: { done?: number; total?: number } | null },
    );
    expect(events.at(-1)!.stage, events.map((e) => `${e.stage}: ${e.message}`).join("\n")).toBe("complete");
    const stagesSeen = events.map((e) => e.stage).filter((s, i, all) => sixStages.includes(s) && all[i - 1] !== s);
    expect(stagesSeen).toEqual(sixStages);
    expect(events.filter((e) => sixStages.includes(e.stage)).map((e) => e.progress)).toEqual(
      [...events.filter((e) => sixStages.includes(e.stage)).map((e) => e.progress)].sort((a, b) => a - b),
    );
    // Engine progress inside provisioning: n of m resources done, up to m of m.
    const steps = events.filter((e) => e.stage === "provisioning" && e.detail?.done);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.at(-1)!.detail).toMatchObject({ done: steps.at(-1)!.detail!.total });
    // SSE ids increase: Last-Event-ID resumes after the given one.
    const resumed = await readEvents(server.base, ownerKey, id, () => true, { lastEventId: messages[2]!.id });
    expect(resumed[0]!.id).toBe(messages[3]!.id);

    const resource = (await owner.get(`/v1/resources/${id}`)).body;
    expect(resource).toMatchObject({ status: "ACTIVE", stage: "complete", progress: 100, lastError: null });
    expect(resource.endpoint.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(resource.configuration).toMatchObject({ template: "small-storage", size: "small", options: { publicNetwork: false } });
    expect(resource).not.toHaveProperty("credentials");
  });

  it("gives the credentials to the owning team only, and audits each read", async () => {
    const { id } = shared;
    const audited = () => server.service.db.auditLog.count({ where: { resourceId: id, action: "credentials.read" } });
    const before = await audited();
    expect((await other.get(`/v1/resources/${id}/credentials`)).status).toBe(404);
    expect((await other.get(`/v1/resources/${id}`)).status).toBe(404);
    expect((await client(server.base).get(`/v1/resources/${id}/credentials`)).status).toBe(401);
    const read = await owner.get(`/v1/resources/${id}/credentials`);
    expect(read.status).toBe(200);
    expect(read.headers.get("cache-control")).toBe("no-store");
    const { credentials } = read.body;
    const { endpoint } = (await owner.get(`/v1/resources/${id}`)).body;
    const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    const identity = await fetch(`${endpoint.api}/api/v0/id`, { method: "POST", headers: { authorization: auth } });
    expect(identity.status).toBe(200);
    expect(await audited()).toBe(before + 1);
  });

  it("keeps every generated secret out of logs, events, error bodies, the database and the Pulumi state", async () => {
    const { id, name } = shared;
    const credentials = (await owner.get(`/v1/resources/${id}/credentials`)).body.credentials as Record<string, string>;
    const secrets = Object.values(credentials).filter((v) => v.length >= 12);
    expect(secrets.length).toBeGreaterThan(0);
    const logs = logLines.join("");
    expect(logs).toContain(id); // the log is there...
    const db = server.service.db;
    const events = JSON.stringify(await db.event.findMany({ where: { resourceId: id } }), (_k, v: unknown) =>
      typeof v === "bigint" ? String(v) : v,
    );
    const tables = await db.$queryRaw<{ dump: string }[]>`
      SELECT (SELECT coalesce(json_agg(r), '[]')::text FROM resources r) || (SELECT coalesce(json_agg(o), '[]')::text FROM operations o)
          || (SELECT coalesce(json_agg(a), '[]')::text FROM audit_log a) AS dump`;
    const stateDir = new URL(server.config.pulumiBackendUrl).pathname;
    const state = fs
      .readdirSync(stateDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
      .join("\n");
    expect(state).toContain(name);
    const resource = JSON.stringify((await owner.get(`/v1/resources/${id}`)).body);
    for (const secret of secrets) {
      for (const [where, text] of Object.entries({ logs, events, tables: tables[0]!.dump, state, resource })) {
        const at = text.indexOf(secret);
        expect(at, `a secret appears in ${where}: ${text.slice(Math.max(0, at - 300), at + 100)}`).toBe(-1);
      }
    }
  });

  it("lists the team's resources only, filtered by status and template", async () => {
    const mine = await owner.get("/v1/resources?status=ACTIVE&template=small-storage");
    expect(mine.body.resources.map((r: { id: string }) => r.id)).toContain(shared.id);
    expect((await other.get("/v1/resources")).body.resources).toEqual([]);
  });

  // One resource through its life after create: each step starts where the last left it.
  it(
    "PATCH resizes; a `pulumi up` made outside the service is drift until a refresh shows it; DELETE removes everything",
    { timeout: 600_000 },
    async () => {
      const name = `life${process.pid}`;
      const created = await owner.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } });
      const id = created.body.resource.id as string;
      expect(await waitForOperation(owner, id, created.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });

      const patched = await owner.patch(`/v1/resources/${id}`, { size: "medium" });
      expect(patched.status).toBe(202);
      expect(patched.body.operation).toMatchObject({ kind: "UPDATE" });
      expect(await waitForOperation(owner, id, patched.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
      const resource = (await owner.get(`/v1/resources/${id}`)).body;
      expect(resource).toMatchObject({ status: "ACTIVE", size: "medium", configuration: { size: "medium" } });

      // An engineer runs the same program on the same stack.
      const config = server.config;
      const stack = await openStack(
        { projectName: pulumiProject, stackName: resource.stack, backendUrl: config.pulumiBackendUrl, passphrase: config.passphrase },
        resourceProgram(
          {
            target: "docker-host",
            team: teamName,
            name,
            resourceId: id,
            hostName: resource.configuration.project,
            template: "small-storage",
            size: "medium",
            options: resource.options,
            ports: resource.configuration.ports,
          },
          {
            projectsDir: config.projectsDir,
            publishIp: config.publishIp,
            publicHost: config.publicHost,
            images: config.images,
            healthTimeoutSeconds: 120,
            cloud: config.cloud,
          },
        ),
      );
      await stack.up({ message: "engineer: manual up" });

      const refused = await owner.patch(`/v1/resources/${id}`, { size: "small" });
      const operation = await waitForOperation(owner, id, refused.body.operation.id);
      expect(operation.status).toBe("FAILED");
      expect(operation.error).toMatch(/^drift: the stack has 1 update\(s\) made outside the service/);
      const drifted = (await owner.get(`/v1/resources/${id}`)).body;
      expect(drifted).toMatchObject({ status: "ACTIVE", size: "medium", drift: { inSync: false, foreignUpdates: [{ kind: "update" }] } });

      const refresh = await owner.post(`/v1/resources/${id}/refresh`);
      expect(await waitForOperation(owner, id, refresh.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
      expect((await owner.get(`/v1/resources/${id}`)).body.drift).toMatchObject({ inSync: false, foreignUpdates: [{ kind: "update" }] });
      // Reviewed: the next change goes through, and the next check finds nothing.
      const reviewed = await owner.patch(`/v1/resources/${id}`, { size: "small" });
      expect(await waitForOperation(owner, id, reviewed.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
      const again = await owner.post(`/v1/resources/${id}/refresh`);
      await waitForOperation(owner, id, again.body.operation.id);
      expect((await owner.get(`/v1/resources/${id}`)).body).toMatchObject({ size: "small", drift: { inSync: true, foreignUpdates: [] } });

      // Anonymous volumes carry no label; after the updates above Compose handed them to the recreated containers.
      const mounted = volumesMountedBy(await containersOf(hostNameOf(id)));
      expect(mounted.length).toBeGreaterThan(1);
      const deleted = await owner.delete(`/v1/resources/${id}`);
      expect(deleted.status).toBe(202);
      expect(deleted.body.operation).toMatchObject({ kind: "DELETE" });
      expect(await waitForOperation(owner, id, deleted.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
      const gone = (await owner.get(`/v1/resources/${id}`)).body;
      expect(gone).toMatchObject({ status: "DELETED", endpoint: null });
      expect(gone.deletedAt).not.toBeNull();
      expect(await leftovers(hostNameOf(id))).toEqual([]);
      expect(await existingVolumes(mounted)).toEqual([]);
      expect((await owner.get(`/v1/resources/${id}/credentials`)).status).toBe(409);
      const stateDir = new URL(server.config.pulumiBackendUrl).pathname;
      const stackFiles = fs
        .readdirSync(stateDir, { recursive: true })
        .map(String)
        .filter((f) => f.includes(gone.stack));
      // The stack is removed (Pulumi keeps a .bak of its last state) and holds no lock.
      expect(stackFiles.filter((f) => f.endsWith(`${gone.stack}.json`) || (f.includes("locks") && f.endsWith(".json")))).toEqual([]);
      expect(await server.service.db.portAllocation.count({ where: { resourceId: id } })).toBe(0);
      const history = (await owner.get(`/v1/resources/${id}/events`)).body.events as { stage: string }[];
      expect(history.at(-1)).toMatchObject({ stage: "complete", message: "DELETED" });
    },
  );
});
