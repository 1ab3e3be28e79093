// The /v1 API in-process on port 0, against the real database: authentication,
// the template catalogue, and error bodies.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../core/db.js";
import { TeamService } from "./teams.service.js";
import { startTestServer } from "../test/test-server.js";

describe("/v1 API", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let apiKey: string;

  beforeAll(async () => {
    ({ apiKey } = await new TeamService(db).create(`t${crypto.randomBytes(4).toString("hex")}`));
    server = await startTestServer({}, { runWorker: false });
  });
  afterAll(async () => {
    await server.close();
    await db.$disconnect();
  });

  const get = (path: string, key?: string) => fetch(`${server.base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it("GET /v1/templates lists every template with its sizes (what each is, what the quota counts), targets and parameters", async () => {
    const response = await get("/v1/templates", apiKey);
    expect(response.status).toBe(200);
    const { templates } = (await response.json()) as {
      templates: {
        id: string;
        sizes: string[];
        defaultSize: string;
        sizeSpecs: Record<string, { cpus: number; memoryMb: number; storageGb: number; footprint: { cpus: number; memoryMb: number } }>;
        sizeUnit: string;
        targets: string[];
        parameters: { type: string };
      }[];
    };
    expect(templates.map((t) => t.id).sort()).toEqual([
      "ipfs-cluster-small",
      "large-storage",
      "medium-storage",
      "postgres-medium",
      "postgres-small",
      "small-storage",
    ]);
    const cluster = templates.find((t) => t.id === "ipfs-cluster-small")!;
    expect(cluster).toMatchObject({ sizes: ["small", "medium", "large"], targets: ["docker-host"], parameters: { type: "object" } });
    // The design's table: postgres-small 2 vCPUs / 4 GB / 10 GB, postgres-medium 4 / 16 GB / 50 GB, storage 5 / 25 / 100 GB.
    const byId = Object.fromEntries(templates.map((t) => [t.id, t]));
    const defaultSpec = (id: string) => {
      const { cpus, memoryMb, storageGb } = byId[id]!.sizeSpecs[byId[id]!.defaultSize]!;
      return { cpus, memoryMb, storageGb };
    };
    expect(defaultSpec("postgres-small")).toEqual({ cpus: 2, memoryMb: 4096, storageGb: 10 });
    expect(defaultSpec("postgres-medium")).toEqual({ cpus: 4, memoryMb: 16384, storageGb: 50 });
    expect(["small-storage", "medium-storage", "large-storage"].map((id) => defaultSpec(id).storageGb)).toEqual([5, 25, 100]);
    expect(defaultSpec("ipfs-cluster-small")).toEqual({ cpus: 0.5, memoryMb: 1024, storageGb: 10 });
    expect(cluster.sizeUnit).toMatch(/each node/);
    // With the sidecars: PgBouncer (1 CPU, 256 MB) and the backup sidecar (0.5 CPU, 256 MB).
    expect(byId["postgres-small"]!.sizeSpecs.small!.footprint).toEqual({ cpus: 3.5, memoryMb: 4608 });
    for (const t of templates) expect(Object.keys(t.sizeSpecs)).toEqual(t.sizes);
  });

  it.each([
    ["no key", undefined],
    ["a malformed key", "nope"],
    ["an unknown key", `prov_000000000000_${"A".repeat(43)}`],
  ])("when the request has %s, then it gets 401 with a machine-readable body", async (_, key) => {
    const response = await get("/v1/templates", key);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: "unauthenticated", message: "a valid API key is required: Authorization: Bearer <key>" },
    });
  });

  it("when the body is malformed JSON, then it gets 400 malformed_json", async () => {
    const response = await fetch(`${server.base}/v1/templates`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: "{",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("malformed_json");
  });
});
