import { describe, expect, it } from "vitest";
import { endpointAddresses } from "./endpoint-check.js";

describe("endpointAddresses", () => {
  it("reads host and port from URLs and host:port strings, skipping the rest", () => {
    expect(
      endpointAddresses({
        api: "http://127.0.0.1:19000",
        gateway: "http://127.0.0.1:19001/ipfs/",
        postgres: "postgresql://app@db.example:5432/app",
        pgbouncer: "10.0.0.1:6432",
        note: "read-only replica",
      }),
    ).toEqual([
      { host: "127.0.0.1", port: 19000 },
      { host: "127.0.0.1", port: 19001 },
      { host: "db.example", port: 5432 },
      { host: "10.0.0.1", port: 6432 },
    ]);
  });
});
