// Operations that do not end normally, for real: a cancel that has to force
// the engine to stop, and a service killed with SIGKILL in the middle of an
// `up`. Either way the stack ends unlocked and nothing is orphaned in Docker.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { createLogger } from "../core/logger.js";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { leftovers } from "./deployment.js";
import { docker, eventually } from "./docker.js";
import { client, discardUnfinishedOperations, waitForOperation, type Client } from "./service-client.js";
import { processesOf } from "../automation/process-killer.js";

const repoRoot = path.resolve(import.meta.dirname, "..");

function lockFiles(stateDir: string): string[] {
  const locks = path.join(stateDir, ".pulumi", "locks");
  if (!fs.existsSync(locks)) return [];
  return fs
    .readdirSync(locks, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".json"));
}

async function newTeam(db: ReturnType<typeof createDatabase>, base: string): Promise<{ api: Client; team: string }> {
  const team = `r${crypto.randomBytes(3).toString("hex")}`;
  const { apiKey } = await new TeamService(db).create(team, "PRO");
  return { api: client(base, apiKey), team };
}

describe("cancelling a running operation", () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it(
    "stops the engine (forced after the timeout), unlocks the stack, FAILED with the reason; DELETE then leaves nothing",
    { timeout: 300_000 },
    async () => {
      // The worker's log is the one witness of the forced stop: captured, as JSON lines.
      const logLines: string[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString()), done()) });
      server = await startTestServer({ OPERATION_CANCEL_TIMEOUT_SECONDS: "1" }, { logger: createLogger("info", sink, "json") });
      const { api } = await newTeam(server.service.db, server.base);
      // A 3-peer cluster takes ~20 s to become healthy: the cancel lands while its deploy step runs.
      const name = `cancel${process.pid}`;
      const id = (await api.post("/v1/resources", { template: "ipfs-cluster-small", name, options: { publicNetwork: false } })).body
        .resource.id;
      await eventually(
        async () => ((await docker("ps", "-q", "--filter", `label=provisioner.project=${hostNameOf(id)}`)) ? true : undefined),
        120_000,
        "the deploy step to start containers",
      );
      const cancel = await api.post(`/v1/resources/${id}/cancel`);
      expect(cancel.status).toBe(202);
      expect(cancel.body.operation).toMatchObject({ kind: "CREATE", status: "RUNNING" });

      expect(await waitForOperation(api, id, cancel.body.operation.id, 120_000)).toMatchObject({ kind: "CREATE", status: "CANCELLED" });
      // The graceful stop (SIGINT) did not end the deploy step within 1 s: the engine's processes were killed.
      const logged = logLines
        .flatMap((line) => line.split("\n"))
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { msg: string; operationId?: string; killed?: number });
      const forced = logged.find(
        (entry) => entry.msg === "cancel timeout: engine processes killed" && entry.operationId === cancel.body.operation.id,
      );
      expect(forced, logged.map((entry) => entry.msg).join("\n")).toBeDefined();
      expect(forced!.killed).toBeGreaterThan(0);
      expect(processesOf(cancel.body.operation.id)).toEqual([]);
      const resource = (await api.get(`/v1/resources/${id}`)).body;
      expect(resource.status).toBe("FAILED");
      expect(resource.lastError).toMatch(/^cancelled: the create was stopped on request/);
      expect(lockFiles(new URL(server.config.pulumiBackendUrl).pathname)).toEqual([]);
      const { events } = (await api.get(`/v1/resources/${id}/events`)).body;
      expect(events.at(-1)).toMatchObject({ stage: "cancelled" });

      const deleting = await api.delete(`/v1/resources/${id}`);
      expect(deleting.status).toBe(202);
      expect(await waitForOperation(api, id, deleting.body.operation.id, 120_000)).toMatchObject({ status: "SUCCEEDED" });
      expect((await api.get(`/v1/resources/${id}`)).body.status).toBe("DELETED");
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    },
  );
});

describe("a worker whose lease is taken over during an up", () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it(
    "kills its engine at once and leaves the stack locked and the operation to the new holder, who recovers it to ACTIVE",
    { timeout: 300_000 },
    async () => {
      server = await startTestServer({ OPERATION_LEASE_SECONDS: "3" }, { runWorker: false });
      const { db } = server.service;
      const worker = server.service.worker!;
      worker.start();
      const { api } = await newTeam(db, server.base);
      const name = `fence${process.pid}`;
      const created = (await api.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } })).body;
      const { id } = created.resource;
      const operationId: string = created.operation.id;
      const stateDir = new URL(server.config.pulumiBackendUrl).pathname;
      // Mid-up: the engine runs and holds the stack's lock.
      await eventually(
        async () =>
          (await db.event.count({ where: { operationId, stage: "provisioning" } })) > 0 && lockFiles(stateDir).length === 1
            ? true
            : undefined,
        120_000,
        "the up to start",
      );
      expect(processesOf(operationId).length).toBeGreaterThan(0);

      // Another worker takes the operation over (it saw this one's lease run out).
      await db.operation.update({
        where: { id: operationId },
        data: { leaseOwner: "another-worker", leaseExpiresAt: new Date(Date.now() + 600_000) },
      });
      await worker.heartbeat();
      await eventually(
        () => Promise.resolve(processesOf(operationId).length === 0 ? true : undefined),
        10_000,
        "the engine's processes to be killed",
      );
      await eventually(() => Promise.resolve(worker.inFlight === 0 ? true : undefined), 30_000, "the fenced run to end");
      // The fenced worker touched nothing: the lock and the operation are the new holder's.
      expect(lockFiles(stateDir)).toHaveLength(1);
      expect(await db.operation.findUniqueOrThrow({ where: { id: operationId } })).toMatchObject({
        status: "RUNNING",
        leaseOwner: "another-worker",
      });
      expect((await db.resource.findUniqueOrThrow({ where: { id } })).status).toBe("PROVISIONING");

      // The other worker dies in turn: this one recovers the operation through the expired lease.
      await db.operation.update({ where: { id: operationId }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
      const recovered = await waitForOperation(api, id, operationId, 180_000);
      expect(recovered.status, recovered.error ?? "").toBe("SUCCEEDED");
      expect((await api.get(`/v1/resources/${id}`)).body.status).toBe("ACTIVE");
      expect(lockFiles(stateDir)).toEqual([]);

      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(await waitForOperation(api, id, deleted.body.operation.id, 120_000)).toMatchObject({ status: "SUCCEEDED" });
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    },
  );
});

describe("the service killed with SIGKILL during an up", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-crash-"));
  const stateDir = path.join(root, "state");
  fs.mkdirSync(stateDir);
  const db = createDatabase(process.env.DATABASE_URL!);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    LOG_LEVEL: "info",
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PROVISIONER_PROJECTS_DIR: path.join(root, "projects"),
    PROVISIONER_PUBLISH_IP: "127.0.0.1",
    PULUMI_CONFIG_PASSPHRASE: "crash-test-passphrase-0123",
    PROVISIONER_CREDENTIALS_KEYS: generateKeyringSpec("crash"),
    OPERATION_LEASE_SECONDS: "3",
  };
  let service: ChildProcess | undefined;

  /** Starts `node api/main.ts` in its own process group; resolves with its base URL. */
  function startService(): Promise<string> {
    const child = spawn(process.execPath, ["--import", "tsx", "api/main.ts"], {
      cwd: repoRoot,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    service = child;
    return new Promise((resolve, reject) => {
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const port = /"port":(\d+)/.exec(output)?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
      });
      child.once("exit", (code) => reject(new Error(`the service exited (${code}): ${output}`)));
    });
  }

  afterAll(async () => {
    if (service?.exitCode === null) process.kill(-service.pid!, "SIGKILL");
    await db.$disconnect();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(
    "on restart, finds the operation by its expired lease, unlocks the stack, resumes it to ACTIVE; nothing orphaned",
    { timeout: 300_000 },
    async () => {
      await discardUnfinishedOperations(db);
      const first = await startService();
      const { api: firstApi } = await newTeam(db, first);
      const name = `crash${process.pid}`;
      const id = (await firstApi.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } })).body
        .resource.id;
      const project = hostNameOf(id);
      // Mid-deploy: the engine holds the lock and the deploy script has started the container.
      await eventually(
        async () => ((await docker("ps", "-aq", "--filter", `label=provisioner.project=${project}`)) ? true : undefined),
        120_000,
        "the deploy to start",
      );
      expect(lockFiles(stateDir)).toHaveLength(1);
      // The whole process group, as when a container or host dies: the engine goes too.
      process.kill(-service!.pid!, "SIGKILL");
      await new Promise((resolve) => service!.once("exit", resolve));
      expect((await db.operation.findFirstOrThrow({ where: { resourceId: id } })).status).toBe("RUNNING");
      expect(lockFiles(stateDir)).toHaveLength(1);

      await startService();
      const resource = await eventually(
        async () => {
          const row = await db.resource.findUniqueOrThrow({ where: { id } });
          return row.status === "ACTIVE" || row.status === "FAILED" ? row : undefined;
        },
        180_000,
        "the resumed operation to finish",
      );
      expect(resource.status, resource.lastError ?? "").toBe("ACTIVE");
      // The resource turns ACTIVE a moment before its operation is marked done.
      const operation = await eventually(
        async () => {
          const row = await db.operation.findFirstOrThrow({ where: { resourceId: id } });
          return row.status === "RUNNING" ? undefined : row;
        },
        30_000,
        "the operation marked done",
      );
      expect(operation).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
      const events = await db.event.findMany({ where: { resourceId: id }, orderBy: { id: "asc" } });
      expect(events.map((e) => e.message).join("\n")).toMatch(/recovered the stack after an interrupted run/);
      expect(lockFiles(stateDir)).toEqual([]);
      // One Kubo container and its RPC guard: the resumed deploy adopted what the killed one started.
      const containers = (await docker("ps", "-a", "--format", "{{.Names}}", "--filter", `label=provisioner.project=${project}`))
        .split("\n")
        .filter(Boolean);
      expect(containers.sort()).toEqual([`${project}-ipfs`, `${project}-rpc`]);

      // Metering (issue 15): the create interrupted and resumed is billed once, from its first ACTIVE.
      const [segment, ...more] = await db.usageSegment.findMany({ where: { resourceId: id } });
      expect(more).toEqual([]);
      expect(segment).toMatchObject({ size: "small", endedAt: null });
      // Killed again mid-hour while it runs: no gap, no second segment, the hours go on counting.
      process.kill(-service!.pid!, "SIGKILL");
      await new Promise((resolve) => service!.once("exit", resolve));
      await startService();
      expect(await db.usageSegment.findMany({ where: { resourceId: id } })).toEqual([segment]);

      await db.operation.create({ data: { resourceId: id, kind: "DELETE" } });
      const deleted = await eventually(
        async () => {
          const row = await db.resource.findUniqueOrThrow({ where: { id } });
          return row.status === "DELETED" || row.status === "FAILED" ? row : undefined;
        },
        120_000,
        "the delete",
      );
      expect(deleted.status, deleted.lastError ?? "").toBe("DELETED");
      // Billed from the first ACTIVE to the deletion, in one segment.
      const billed = await db.usageSegment.findMany({ where: { resourceId: id } });
      expect(billed.map((b) => [b.id, b.startedAt, b.endedAt])).toEqual([[segment!.id, segment!.startedAt, deleted.deletedAt]]);
      expect(await leftovers(project)).toEqual([]);
      process.kill(-service!.pid!, "SIGTERM");
    },
  );
});
