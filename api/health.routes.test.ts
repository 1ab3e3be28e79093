// The service in-process on port 0, against the real control-plane database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "./db.js";
import { startTestServer } from "./test-server.js";

describe("health endpoints", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  let server: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    server = await startTestServer(db);
  });
  afterAll(async () => {
    await server.close();
    await db.$disconnect();
  });

  it("GET /healthz answers 200", async () => {
    const response = await fetch(`${server.base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when the database is reachable and migrated", async () => {
    const response = await fetch(`${server.base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", checks: { database: "ok" } });
  });

  it("when the database is unreachable, then GET /readyz answers 503", async () => {
    const other = await startTestServer(createDatabase("postgresql://nobody:wrong@127.0.0.1:1/none"));
    try {
      const response = await fetch(`${other.base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: "unavailable", checks: { database: "unreachable" } });
    } finally {
      await other.close();
    }
  });
});
