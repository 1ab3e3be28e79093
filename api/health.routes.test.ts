// The service in-process on port 0, against the real control-plane database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../test/test-server.js";

describe("health endpoints", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    server = await startTestServer({}, { runWorker: false });
  });
  afterAll(async () => {
    await server.close();
  });

  it("GET /healthz answers 200", async () => {
    const response = await fetch(`${server.base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when the database, Docker and Pulumi answer", async () => {
    const response = await fetch(`${server.base}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { instance: unknown; running: unknown };
    expect(body).toMatchObject({ status: "ok", checks: { database: "ok", docker: "ok", pulumi: "ok" } });
    // Which instance this is, and what every instance sharing the database runs.
    expect(body.instance).toEqual({ id: server.config.instanceId, dockerHostId: "local" });
    expect(typeof body.running).toBe("object");
  });

  it("when the database is unreachable, then GET /readyz answers 503", async () => {
    const other = await startTestServer({ DATABASE_URL: "postgresql://nobody:wrong@127.0.0.1:1/none" }, { runWorker: false });
    try {
      const response = await fetch(`${other.base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "unavailable", checks: { database: "unreachable" } });
    } finally {
      await other.close();
    }
  });
});
