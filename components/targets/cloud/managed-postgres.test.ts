import { describe, expect, it } from "vitest";
import { resolveImages } from "../../images.js";
import { buildSystem, prepareRequest } from "../../templates/index.js";
import { managedPostgresOutputs, rdsBackupRetentionDays, rdsBackupWindow } from "./managed-postgres.js";

/** The template's own outputs when it runs in containers. */
function containerOutputs(template: string) {
  const prepared = prepareRequest({ template, name: "ledger", team: "platform", resourceId: "0b7e4f8a-1c2d-4e3f-9a0b-1c2d3e4f5a6b" });
  const ports = { pgbouncer: 19020, replica: 19021 };
  return buildSystem(prepared, {
    ports,
    secrets: { password: "p", replicationPassword: "r" },
    images: resolveImages({}),
    publishIp: "0.0.0.0",
    publicHost: "h",
  }).outputs;
}

const keys = (o: { endpoint: object; credentials: object }) => ({
  endpoint: Object.keys(o.endpoint).sort(),
  credentials: Object.keys(o.credentials).sort(),
});

describe("managedPostgresOutputs", () => {
  const connection = { host: "db.example", port: 25061, database: "platform_ledger", username: "platform_ledger_app", password: "s3cr/t" };

  it("has exactly the keys of postgres-small's outputs", () => {
    expect(keys(managedPostgresOutputs(connection))).toEqual(keys(containerOutputs("postgres-small")));
  });

  it("has exactly the keys of postgres-medium's outputs with a replica", () => {
    expect(keys(managedPostgresOutputs({ ...connection, replica: { host: "replica.example", port: 25060 } }))).toEqual(
      keys(containerOutputs("postgres-medium")),
    );
  });

  it("asks for TLS and escapes the password in the connection string", () => {
    expect(managedPostgresOutputs({ ...connection, replica: { host: "replica.example", port: 25060 } })).toEqual({
      endpoint: {
        host: "db.example",
        port: "25061",
        database: "platform_ledger",
        url: "postgresql://db.example:25061/platform_ledger?sslmode=require",
        replicaPort: "25060",
        replicaUrl: "postgresql://replica.example:25060/platform_ledger?sslmode=require",
      },
      credentials: {
        username: "platform_ledger_app",
        password: "s3cr/t",
        connectionString: "postgresql://platform_ledger_app:s3cr%2Ft@db.example:25061/platform_ledger?sslmode=require",
      },
    });
  });
});

describe("RDS backups", () => {
  it.each([
    [1, 1],
    [7, 7],
    [35, 35],
    [365, 35],
  ])("keeps %d dumps -> %d days of point-in-time recovery", (n, days) => expect(rdsBackupRetentionDays(n)).toBe(days));
  it.each([
    ["02:00", "02:00-02:30"],
    ["23:45", "23:45-00:15"],
    ["00:00", "00:00-00:30"],
  ])("backup time %s -> window %s", (t, w) => expect(rdsBackupWindow(t)).toBe(w));
});
