// The service in-process on port 0, against the real control-plane database.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./app.js";
import { createDatabase } from "./db.js";

describe("health endpoints", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createApp({ db, logger: pino({ level: "silent" }) }).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.$disconnect();
  });

  it("GET /healthz answers 200", async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when the database is reachable and migrated", async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", checks: { database: "ok" } });
  });

  it("when the database is unreachable, then GET /readyz answers 503", async () => {
    const unreachable = createDatabase("postgresql://nobody:wrong@127.0.0.1:1/none");
    const other = createApp({ db: unreachable, logger: pino({ level: "silent" }) }).listen(0, "127.0.0.1");
    await new Promise((resolve) => other.once("listening", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: "unavailable", checks: { database: "unreachable" } });
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
