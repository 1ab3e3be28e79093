// What the error middleware answers: an overloaded database is a 503 a client
// may retry, anything unknown a 500 that names nothing but the request id.
import type { AddressInfo } from "node:net";
import express from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorMiddleware } from "./errors.js";

describe("errorMiddleware", () => {
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.get("/throw/:code", (req) => {
      throw Object.assign(new Error(`prisma failed with the secret s3cr3t`), { code: req.params.code });
    });
    app.use(errorMiddleware(pino({ level: "silent" })));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it.each(["P2024", "P2028"])(
    "when Prisma reports %s (pool or transaction timeout), then 503 overloaded with Retry-After",
    async (code) => {
      const response = await fetch(`${base}/throw/${code}`);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: "overloaded" } });
      expect(text).not.toContain("s3cr3t");
    },
  );

  it("when anything else fails, then 500 with the request id and not the error's message", async () => {
    const response = await fetch(`${base}/throw/P2002`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("s3cr3t");
  });
});
