// 405 for a documented path with an undocumented method; other paths pass on.
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { methodNotAllowed } from "./method-not-allowed.middleware.js";

describe("methodNotAllowed", () => {
  const document = {
    paths: { "/v1/resources/{id}": { parameters: [], get: {}, patch: {}, delete: {} }, "/v1/resources": { get: {}, post: {} } },
  };
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.get("/v1/resources/:id", (_req, res) => void res.json({ ok: true }));
    app.use(methodNotAllowed(document));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it.each([
    ["PUT", "/v1/resources/abc", "GET, PATCH, DELETE, HEAD"],
    ["POST", "/v1/resources/abc", "GET, PATCH, DELETE, HEAD"],
    ["DELETE", "/v1/resources", "GET, POST, HEAD"],
  ])("when %s %s is not in the document, then 405 with Allow: %s", async (method, path, allow) => {
    const response = await fetch(`${base}${path}`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });

  it("leaves documented methods to their routes and unknown paths to the 404", async () => {
    expect((await fetch(`${base}/v1/resources/abc`)).status).toBe(200);
    expect((await fetch(`${base}/v1/resources/abc/nope`, { method: "PUT" })).status).toBe(404);
  });
});
