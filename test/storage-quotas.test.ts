// Storage quotas for real, through the service (components/model/volume-quota.ts):
// a small-storage node and a postgres-small written past their volumes' sizes
// fail inside the resource only, the host keeps its free space, the health
// monitor makes each DEGRADED naming the volume, another resource keeps
// working, and a PATCH to a larger size grows a volume with its data.
// Volumes are made small with PROVISIONER_TEST_VOLUME_MB_PER_GB (12 MB per GB:
// small-storage's 5 GB → 60 MB, postgres-small's 10 GB volumes → 120 MB), so a
// test fills one in seconds.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { leftovers } from "./deployment.js";
import { psql } from "./postgres-client.js";
import { client, waitForOperation, type Client } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

const execFileAsync = promisify(execFile);
const mbPerGb = 12;
const MB = 1024 * 1024;
const scrapeToken = crypto.randomBytes(24).toString("hex");

describe("storage quotas on the local Docker host (volumes of 12 MB per GB)", () => {
  let server: TestServer;
  let api: Client;
  const ids: Record<"storage" | "postgres", string | undefined> = { storage: undefined, postgres: undefined };
  const resource = async (which: keyof typeof ids) => (await api.get(`/v1/resources/${ids[which]}`)).body;
  const credentials = async (which: keyof typeof ids) => (await api.get(`/v1/resources/${ids[which]}/credentials`)).body.credentials;
  const hostFree = () => {
    const s = fs.statfsSync(server.config.projectsDir);
    return s.bavail * s.bsize;
  };

  beforeAll(async () => {
    server = await startTestServer({
      PROVISIONER_TEST_VOLUME_MB_PER_GB: String(mbPerGb),
      HEALTH_CHECK_INTERVAL_SECONDS: "0",
      PROVISIONER_SCRAPE_TOKEN: scrapeToken,
    });
    const team = `q${crypto.randomBytes(3).toString("hex")}`;
    api = client(server.base, (await new TeamService(server.service.db).create(team, "PRO")).apiKey);
    const created = await Promise.all([
      api.post("/v1/resources", { template: "small-storage", name: `qs${process.pid}`, options: { publicNetwork: false } }),
      api.post("/v1/resources", { template: "postgres-small", name: `qp${process.pid}` }),
    ]);
    for (const c of created) expect(c.status).toBe(202);
    ids.storage = created[0].body.resource.id;
    ids.postgres = created[1].body.resource.id;
    for (const c of created)
      expect(await waitForOperation(api, c.body.resource.id, c.body.operation.id, 360_000)).toMatchObject({
        status: "SUCCEEDED",
        error: null,
      });
  }, 400_000);

  afterAll(async () => {
    for (const id of Object.values(ids)) {
      if (!id) continue;
      if ((await api.get(`/v1/resources/${id}`)).body.status !== "DELETED") {
        const deleted = await api.delete(`/v1/resources/${id}`);
        expect(deleted.status).toBe(202);
        expect(await waitForOperation(api, id, deleted.body.operation.id, 300_000)).toMatchObject({ status: "SUCCEEDED" });
      }
      // DELETE leaves nothing: no container, Docker volume, network, mount, image or folder.
      expect(await leftovers(hostNameOf(id))).toEqual([]);
      expect(fs.existsSync(`${server.config.projectsDir}/${hostNameOf(id)}.volumes`)).toBe(false);
    }
    await server?.close();
  }, 400_000);

  it("says in the configuration that the sizes are enforced, and shows each volume's size and use in the detail", async () => {
    const storage = await resource("storage");
    expect(storage.configuration.storage).toMatchObject({ quota: "enforced", sizesMb: { "ipfs-data": 5 * mbPerGb } });
    const postgres = await resource("postgres");
    expect(postgres.configuration.storage).toMatchObject({ quota: "enforced", sizesMb: { pgdata: 10 * mbPerGb } });
    const volume = storage.volumes.find((v: { name: string }) => v.name === "ipfs-data");
    // ext4's own metadata takes a few MB of the image.
    expect(volume).toMatchObject({ mounted: true });
    expect(volume.sizeBytes).toBeGreaterThan(50 * MB);
    expect(volume.sizeBytes).toBeLessThanOrEqual(60 * MB);
    expect(volume.usedBytes).toBeGreaterThan(0);
  });

  it("writing past the quotas fails inside each resource, the host keeps its free space, another resource keeps working", async () => {
    const freeBefore = hostFree();
    const attempted = 2 * 400 * MB;
    // 400 MB of random data (no deduplication) added by the node's own client, streamed (no file on the host's disk).
    const { stdout, stderr } = await execFileAsync(
      "docker",
      ["exec", `${hostNameOf(ids.storage!)}-ipfs`, "sh", "-c", "head -c 400000000 /dev/urandom | ipfs add -q --pin 2>&1; echo rc=$?"],
      { maxBuffer: 16 * MB, timeout: 180_000 },
    );
    expect(`${stdout}${stderr}`).toMatch(/no space left on device/i);
    expect(stdout).not.toMatch(/rc=0/);
    // postgres-small keeps working while its neighbour is full.
    const pg = await resource("postgres");
    const pgCredentials = await credentials("postgres");
    await psql(pg.endpoint, pgCredentials, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('kept')");
    expect(await psql(pg.endpoint, pgCredentials, "SELECT v FROM marker")).toBe("kept");

    // 400 MB of rows into the 120 MB data volume, from inside (the server's own socket): PostgreSQL stops at the quota.
    const filled = await execFileAsync(
      "docker",
      [
        "exec",
        `${hostNameOf(ids.postgres!)}-postgres`,
        "psql",
        "-U",
        "postgres",
        "-d",
        pg.endpoint.database,
        "-c",
        "CREATE TABLE fill AS SELECT md5(random()::text) || repeat('x', 1000) AS v FROM generate_series(1, 400000)",
      ],
      { timeout: 120_000 },
    ).then(
      () => "succeeded",
      (error: Error) => error.message,
    );
    expect(filled).toMatch(/No space left on device/i);

    // The host lost at most what the volumes may hold (plus other processes' noise), not what was written.
    const quotas = (5 + 10 + 10) * mbPerGb * MB;
    expect(freeBefore - hostFree()).toBeLessThan(quotas + 150 * MB);
    expect(freeBefore - hostFree()).toBeLessThan(attempted);
  }, 300_000);

  it("the health monitor makes each full resource DEGRADED naming its volume, with an event, and the usage is a metric by resource id", async () => {
    await server.service.health.checkAll();
    const storage = await resource("storage");
    expect(storage.status).toBe("DEGRADED");
    expect(storage.lastError).toMatch(/ipfs-data: volume full/);
    const postgres = await resource("postgres");
    expect(postgres.lastError ?? "").toMatch(/pgdata: volume full/);
    const events = (await api.get(`/v1/resources/${ids.storage}/events`)).body.events;
    expect(events.some((e: { stage: string; message: string }) => e.stage === "health" && /volume full/.test(e.message))).toBe(true);
    const metrics = await (await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
    const sample = (name: string) =>
      Number(
        metrics
          .split("\n")
          .find((l) => l.startsWith(`${name}{resource_id="${ids.storage}",volume="ipfs-data"} `))
          ?.split(" ")[1] ?? NaN,
      );
    // Full: less than 32 MB (or 5 %) left of its size (api/volume-usage.ts).
    expect(sample("provisioner_volume_size_bytes") - sample("provisioner_volume_used_bytes")).toBeLessThan(32 * MB);
    expect(sample("provisioner_volume_size_bytes")).toBeGreaterThan(50 * MB);
  }, 120_000);

  it("a PATCH to a larger size grows the volume, and the data survives", async () => {
    const pgCredentials = await credentials("postgres");
    const patched = await api.patch(`/v1/resources/${ids.postgres}`, { size: "medium" });
    expect(patched.status).toBe(202);
    expect(await waitForOperation(api, ids.postgres!, patched.body.operation.id, 300_000)).toMatchObject({ status: "SUCCEEDED" });
    const postgres = await resource("postgres");
    expect(postgres.configuration.storage.sizesMb.pgdata).toBe(25 * mbPerGb);
    const pgdata = postgres.volumes.find((v: { name: string }) => v.name === "pgdata");
    expect(pgdata.sizeBytes).toBeGreaterThan(250 * MB);
    expect(await psql(postgres.endpoint, pgCredentials, "SELECT v FROM marker")).toBe("kept");
    // Room again: the health monitor moves it back.
    await server.service.health.checkAll();
    expect((await resource("postgres")).status).toBe("ACTIVE");
  }, 400_000);
});
