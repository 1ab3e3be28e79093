import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const base = {
  DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db",
  PULUMI_CONFIG_PASSPHRASE: "a-passphrase-long-enough",
  PROVISIONER_CREDENTIALS_KEYS: `k2:${Buffer.alloc(32, 2).toString("base64")},k1:${Buffer.alloc(32, 1).toString("base64")}`,
};

describe("loadConfig", () => {
  it("uses the embedded defaults and the official images", () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ port: 3000, host: "127.0.0.1", logLevel: "info", databaseUrl: base.DATABASE_URL });
    // The state in its own database of the control plane's Postgres; the password in the CLI's environment only.
    expect(config.pulumiBackendUrl).toBe("postgres://u@127.0.0.1:5432/db_pulumi?sslmode=disable");
    expect(config.pulumiBackend.env).toEqual({ PGPASSWORD: "p" });
    expect(config).toMatchObject({ dockerHostId: "local" });
    expect(config.images).toEqual({
      kubo: "ipfs/kubo:v0.39.0",
      ipfsCluster: "ipfs/ipfs-cluster:v1.1.6",
      postgres: "postgres:15",
      pgbouncer: "edoburu/pgbouncer:v1.24.1-p1",
    });
  });

  it("accepts file:// and s3:// backends as given, and moves a postgres:// backend's password out of its URL", () => {
    for (const url of ["file:///var/lib/state", "s3://bucket/prefix?region=eu-central-1"]) {
      expect(loadConfig({ ...base, PULUMI_BACKEND_URL: url }).pulumiBackend).toEqual({ url, env: {}, secrets: [] });
    }
    const backend = loadConfig({
      ...base,
      PULUMI_BACKEND_URL: "postgres://state:s%40cret-pw@db.example:6543/pulumi?sslmode=require&table=t1",
    }).pulumiBackend;
    expect(backend.url).toBe("postgres://state@db.example:6543/pulumi?sslmode=require&table=t1");
    expect(backend.env).toEqual({ PGPASSWORD: "s@cret-pw" });
    expect(backend.secrets).toContain("s@cret-pw");
  });

  it("runs up to OPERATION_CONCURRENCY in one instance unless OPERATION_INSTANCE_CONCURRENCY says fewer", () => {
    expect(loadConfig(base).operations).toMatchObject({ concurrency: 4, instanceConcurrency: 4 });
    expect(loadConfig({ ...base, OPERATION_INSTANCE_CONCURRENCY: "2" }).operations).toMatchObject({
      concurrency: 4,
      instanceConcurrency: 2,
    });
    expect(loadConfig({ ...base, OPERATION_INSTANCE_CONCURRENCY: "9" }).operations).toMatchObject({ instanceConcurrency: 4 });
  });

  it("when PULUMI_BACKEND_URL or PROVISIONER_DOCKER_HOST_ID is malformed, then the error names it and not the URL", () => {
    expect(() => loadConfig({ ...base, PULUMI_BACKEND_URL: "postgres://u:hunter2-pw@[bad" })).toThrow(
      /^invalid configuration: PULUMI_BACKEND_URL: not a URL$/,
    );
    expect(() => loadConfig({ ...base, PROVISIONER_DOCKER_HOST_ID: "Not OK" })).toThrow(/PROVISIONER_DOCKER_HOST_ID/);
  });

  it("leaves Prometheus discovery off without a scrape token, checks the health of resources every 30 s", () => {
    expect(loadConfig(base)).toMatchObject({
      scrapeToken: undefined,
      healthChecks: { intervalSeconds: 30, timeoutSeconds: 5, maxReplicaLagSeconds: 60 },
    });
    expect(loadConfig({ ...base, PROVISIONER_SCRAPE_TOKEN: "s".repeat(32), HEALTH_CHECK_INTERVAL_SECONDS: "0" })).toMatchObject({
      scrapeToken: "s".repeat(32),
      healthChecks: { intervalSeconds: 0 },
    });
  });

  it("when the scrape token is too short, then the error names it", () => {
    expect(() => loadConfig({ ...base, PROVISIONER_SCRAPE_TOKEN: "short" })).toThrow(/PROVISIONER_SCRAPE_TOKEN/);
    expect(loadConfig({ ...base, PROVISIONER_SCRAPE_TOKEN: "" }).scrapeToken).toBeUndefined();
    expect(() => loadConfig({ ...base, PROVISIONER_SCRAPE_TOKEN_FILE: "/nonexistent/token" })).toThrow(/PROVISIONER_SCRAPE_TOKEN_FILE/);
  });

  it("publishes resources' ports on loopback unless PROVISIONER_PUBLISH_IP says otherwise", () => {
    expect(loadConfig(base).publishIp).toBe("127.0.0.1");
    expect(loadConfig({ ...base, PROVISIONER_PUBLISH_IP: "0.0.0.0" }).publishIp).toBe("0.0.0.0");
  });

  it("takes image overrides from PROVISIONER_IMAGE_*", () => {
    expect(loadConfig({ ...base, PROVISIONER_IMAGE_KUBO: "registry.example/kubo:x" }).images.kubo).toBe("registry.example/kubo:x");
  });

  it("when DATABASE_URL is missing, then the error names it", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/DATABASE_URL/);
  });

  it("when PORT is not a port number, then the error names PORT", () => {
    expect(() => loadConfig({ ...base, PORT: "http" })).toThrow(/PORT/);
    expect(() => loadConfig({ ...base, PORT: "70000" })).toThrow(/PORT/);
  });

  it("when the passphrase or the credentials key is missing, then it refuses to start, naming the variable", () => {
    const { PULUMI_CONFIG_PASSPHRASE: _, ...noPassphrase } = base;
    expect(() => loadConfig({ ...noPassphrase, NODE_ENV: "production" })).toThrow(/PULUMI_CONFIG_PASSPHRASE/);
    const { PROVISIONER_CREDENTIALS_KEYS: __, ...noKeys } = base;
    expect(() => loadConfig(noKeys)).toThrow(/PROVISIONER_CREDENTIALS_KEYS/);
  });

  it("reads the credentials keyring, the first key active, and rejects keys of the wrong length", () => {
    const { keyring } = loadConfig(base);
    expect(keyring.activeKeyId).toBe("k2");
    expect([...keyring.keys.keys()]).toEqual(["k2", "k1"]);
    expect(() => loadConfig({ ...base, PROVISIONER_CREDENTIALS_KEYS: "k1:c2hvcnQ=" })).toThrow(
      /PROVISIONER_CREDENTIALS_KEYS: key k1 must be 32 bytes/,
    );
  });

  it("billing is off without STRIPE_API_KEY (empty is unset); a STRIPE_API_BASE that is not an http(s) URL is refused, naming it", () => {
    expect(loadConfig({ ...base, STRIPE_API_KEY: "" }).billing).toEqual({
      stripeApiKey: undefined,
      stripeApiBase: undefined,
      meterEventName: "provisioner_usage_cents",
      reportIntervalSeconds: 300,
      budgetCheckIntervalSeconds: 300,
    });
    expect(loadConfig({ ...base, STRIPE_API_KEY: "sk_test_123", STRIPE_API_BASE: "http://127.0.0.1:12111" }).billing).toMatchObject({
      stripeApiKey: "sk_test_123",
      stripeApiBase: "http://127.0.0.1:12111",
    });
    expect(() => loadConfig({ ...base, STRIPE_API_BASE: "ftp://x" })).toThrow(/STRIPE_API_BASE/);
    expect(() => loadConfig({ ...base, STRIPE_METER_EVENT_NAME: "Has Spaces" })).toThrow(/STRIPE_METER_EVENT_NAME/);
  });
});
