// Operations run the production way: in a worker process beside the API
// (api/main.ts), restarted by the service when it dies. What the README
// promises of it, on real deployments: at most OPERATION_CONCURRENCY
// operations at once and one at a time per resource, in order; the health
// probes of the storage and PostgreSQL templates; the worker restarted; a
// resource FAILED after 3 interruptions.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { hostNameOf } from "../components/templates/host-name.js";
import type { Operation } from "../prisma/generated/client.js";
import { leftovers } from "./deployment.js";
import { docker, eventually } from "./docker.js";
import { client, waitForOperation, waitForStatus, type Client } from "./service-client.js";
import { processesOf } from "../automation/process-killer.js";

const concurrency = 2;

/** The most operations running at one moment: at each start, those started and not yet finished. */
function mostAtOnce(operations: Operation[]): number {
  return Math.max(...operations.map((o) => operations.filter((p) => p.startedAt! <= o.startedAt! && p.finishedAt! > o.startedAt!).length));
}

describe("operations in a real worker process", () => {
  let server: TestServer;
  let api: Client;
  const ids: Record<"storage" | "small" | "medium", string> = { storage: "", small: "", medium: "" };
  const created: string[] = [];
  let operations: Operation[] = [];

  beforeAll(async () => {
    server = await startTestServer(
      { OPERATION_CONCURRENCY: String(concurrency), OPERATION_LEASE_SECONDS: "3", HEALTH_CHECK_INTERVAL_SECONDS: "2" },
      { worker: "process" },
    );
    const { apiKey } = await new TeamService(server.service.db).create(`w${crypto.randomBytes(3).toString("hex")}`, "ENTERPRISE");
    api = client(server.base, apiKey);
    // The storage node's create and a refresh queued right behind it, then two more creates: with a free
    // slot, the refresh must still wait for the create (the next creates take the slot). Three creates: more than the limit.
    const create = async (template: string, name: string, extra: Record<string, unknown> = {}) => {
      const reply = await api.post("/v1/resources", { template, name, ...extra });
      expect(reply.status, JSON.stringify(reply.body)).toBe(202);
      created.push(reply.body.resource.id);
      return reply.body.resource.id as string;
    };
    ids.storage = await create("small-storage", "store", { options: { publicNetwork: false } });
    const firstRefresh = await api.post(`/v1/resources/${ids.storage}/refresh`);
    expect(firstRefresh.status).toBe(202);
    ids.small = await create("postgres-small", "orders");
    ids.medium = await create("postgres-medium", "ledger", { size: "small" });
    // A second refresh once the first has left the queue (a queued one would absorb it).
    await eventually(
      async () =>
        (await server.service.db.operation.findUniqueOrThrow({ where: { id: firstRefresh.body.operation.id } })).status !== "QUEUED"
          ? true
          : undefined,
      400_000,
      "the first refresh to start",
    );
    expect((await api.post(`/v1/resources/${ids.storage}/refresh`)).status).toBe(202);
    for (const id of Object.values(ids)) {
      const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 400_000);
      expect(resource.status, resource.lastError ?? "").toBe("ACTIVE");
    }
    await eventually(
      async () =>
        (await server.service.db.operation.count({ where: { resourceId: { in: Object.values(ids) }, finishedAt: null } })) === 0
          ? true
          : undefined,
      120_000,
      "every operation to finish",
    );
    operations = await server.service.db.operation.findMany({ where: { resourceId: { in: Object.values(ids) } }, orderBy: { seq: "asc" } });
  }, 600_000);

  afterAll(async () => {
    // Whatever happened above, nothing of this file stays in Docker.
    // All at once: the worker runs two at a time.
    await Promise.all(
      created.map(async (id) => {
        const resource = (await api.get(`/v1/resources/${id}`)).body;
        if (resource.status === "DELETED") return;
        const deleted = await api.delete(`/v1/resources/${id}`);
        if (deleted.body?.operation) await waitForOperation(api, id, deleted.body.operation.id, 300_000);
      }),
    );
    for (const id of created) expect(await leftovers(hostNameOf(id))).toEqual([]);
    await server?.close();
  }, 600_000);

  it(`runs at most OPERATION_CONCURRENCY (${concurrency}) operations at once, and each resource's one at a time in the order asked`, () => {
    expect(operations.map((o) => `${o.kind} ${o.status}`)).toEqual([
      "CREATE SUCCEEDED",
      "REFRESH SUCCEEDED",
      "CREATE SUCCEEDED",
      "CREATE SUCCEEDED",
      "REFRESH SUCCEEDED",
    ]);
    // Three creates were queued at once: the limit was reached, never passed.
    expect(mostAtOnce(operations)).toBe(concurrency);
    for (const id of Object.values(ids)) {
      const own = operations.filter((o) => o.resourceId === id);
      for (let i = 1; i < own.length; i++)
        expect(
          own[i]!.startedAt!.getTime(),
          `${own[i]!.kind} of ${id} started before the ${own[i - 1]!.kind} before it finished`,
        ).toBeGreaterThanOrEqual(own[i - 1]!.finishedAt!.getTime());
    }
    expect(operations.filter((o) => o.resourceId === ids.storage).map((o) => o.kind)).toEqual(["CREATE", "REFRESH", "REFRESH"]);
  });

  // The health monitor's probes reach each system as its users do; a stopped part is named, and its return seen.
  it.each([
    ["small-storage", "storage", "ipfs", /^unhealthy: ipfs: /],
    ["postgres-small with PgBouncer stopped", "small", "pgbouncer", /^unhealthy: pgbouncer: SELECT 1 through PgBouncer/],
    ["postgres-medium with its replica stopped", "medium", "replica", /^unhealthy: replica: /],
  ] as const)(
    "health probe of %s: DEGRADED naming the part; started again: ACTIVE",
    { timeout: 300_000 },
    async (_what, which, service, reason) => {
      const id = ids[which];
      await waitForStatus(api, id, ["ACTIVE"], 60_000);
      const container = `${hostNameOf(id)}-${service}`;
      await docker("stop", container);
      try {
        const degraded = await waitForStatus(api, id, ["DEGRADED"], 120_000);
        expect(degraded.lastError).toMatch(reason);
      } finally {
        await docker("start", container);
      }
      expect((await waitForStatus(api, id, ["ACTIVE"], 180_000)).lastError).toBeNull();
    },
  );

  it("the worker process killed: the service starts another, which runs the next operation", { timeout: 300_000 }, async () => {
    const first = server.service.workerProcess!.pid!;
    expect(first).toBeGreaterThan(0);
    process.kill(first, "SIGKILL");
    const second = await eventually(
      () => {
        const pid = server.service.workerProcess!.pid;
        return Promise.resolve(pid && pid !== first ? pid : undefined);
      },
      60_000,
      "a new worker process",
    );
    const refresh = await api.post(`/v1/resources/${ids.storage}/refresh`);
    expect(await waitForOperation(api, ids.storage, refresh.body.operation.id, 240_000)).toMatchObject({
      kind: "REFRESH",
      status: "SUCCEEDED",
    });
    // The new worker ran it and still runs (no restart loop).
    expect(server.service.workerProcess!.pid).toBe(second);
  });

  it(
    "an operation whose worker is killed under it 3 times: the resource FAILED with the reason, and DELETE leaves nothing",
    { timeout: 600_000 },
    async () => {
      const reply = await api.post("/v1/resources", { template: "small-storage", name: "unlucky", options: { publicNetwork: false } });
      const id: string = reply.body.resource.id;
      const operationId: string = reply.body.operation.id;
      created.push(id);
      for (let attempt = 1; attempt <= 3; attempt++) {
        // This attempt's engine is running (the worker process is its parent): kill the worker under it.
        const pid = await eventually(
          async () => {
            const row = await server.service.db.operation.findUniqueOrThrow({ where: { id: operationId } });
            const worker = server.service.workerProcess!.pid;
            return row.status === "RUNNING" && row.attempts === attempt && worker && processesOf(operationId).length > 0
              ? worker
              : undefined;
          },
          240_000,
          `attempt ${attempt}'s engine to run`,
        );
        process.kill(pid, "SIGKILL");
      }
      const failed = await waitForStatus(api, id, ["FAILED", "ACTIVE"], 240_000);
      expect(failed.status).toBe("FAILED");
      expect(failed.lastError).toMatch(/interrupted 3 times; not resumed again/);
      expect(await server.service.db.operation.findUniqueOrThrow({ where: { id: operationId } })).toMatchObject({
        status: "FAILED",
        attempts: 4,
      });

      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(await waitForOperation(api, id, deleted.body.operation.id, 240_000)).toMatchObject({ status: "SUCCEEDED" });
      expect(await leftovers(hostNameOf(id))).toEqual([]);
    },
  );
});
