// The settings each postgres size runs with: the README's tuning table.
import { describe, expect, it } from "vitest";
import { buildSystem, prepareRequest, templates } from "./index.js";
import { poolerSettings, postgresArgs, postgresSettings } from "./postgres-tuning.js";

describe("postgres tuning", () => {
  it.each([
    // memory MB, CPUs → max_connections, shared_buffers, effective_cache_size, work_mem, maintenance_work_mem, /dev/shm
    [4096, 2, [100, 1024, 3072, 10, 256, 512]],
    [8192, 4, [200, 2048, 6144, 10, 512, 1024]],
    [16384, 8, [400, 4096, 12288, 10, 1024, 2048]],
    [32768, 8, [500, 8192, 24576, 16, 2048, 2048]],
  ])("a server of %d MB and %d CPUs", (memoryMb, cpus, expected) => {
    const s = postgresSettings({ cpus, memoryMb, storageGb: 10 });
    expect([s.maxConnections, s.sharedBuffersMb, s.effectiveCacheSizeMb, s.workMemMb, s.maintenanceWorkMemMb, s.shmMb]).toEqual(expected);
  });

  it.each([
    // CPUs → max_client_conn, default_pool_size, reserve_pool_size, max_db_connections, nofile, memory MB
    [2, [10000, 20, 5, 25, 11024, 256]],
    [4, [20000, 40, 10, 50, 21024, 512]],
    [8, [40000, 80, 20, 100, 41024, 1024]],
  ])(
    "a pooler in front of %d CPUs accepts at least 10,000 clients, opens fewer server connections than the server allows",
    (cpus, expected) => {
      const p = poolerSettings({ cpus, memoryMb: 4096, storageGb: 10 });
      expect([p.maxClientConn, p.defaultPoolSize, p.reservePoolSize, p.maxDbConnections, p.nofile, p.memoryMb]).toEqual(expected);
      expect(p.maxClientConn).toBeGreaterThanOrEqual(10_000);
      expect(p.nofile).toBeGreaterThan(p.maxClientConn + p.maxDbConnections);
    },
  );

  it("on a host whose containers may open 20,000 files, the pooler of 8 CPUs takes what fits (the engine refuses a higher limit)", () => {
    const p = poolerSettings({ cpus: 8, memoryMb: 16384, storageGb: 50 }, 20_000);
    expect([p.maxClientConn, p.nofile, p.memoryMb]).toEqual([18_976, 20_000, 1024]);
    expect(poolerSettings({ cpus: 2, memoryMb: 4096, storageGb: 10 }, 20_000)).toEqual(
      poolerSettings({ cpus: 2, memoryMb: 4096, storageGb: 10 }),
    );
    const prepared = prepareRequest({
      template: "postgres-small",
      name: "db",
      team: "t",
      size: "large",
      resourceId: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    });
    const images = { kubo: "k", ipfsCluster: "c", postgres: "p", pgbouncer: "b" };
    const inputs = {
      ports: { pgbouncer: 20000 },
      secrets: { password: "ab" },
      images,
      publishIp: "0.0.0.0",
      publicHost: "h",
      hostOpenFiles: 20_000,
    };
    const pooler = buildSystem(prepared, inputs).model.services.pgbouncer!;
    expect(pooler.nofile).toBe(20_000);
    expect(pooler.environment!.MAX_CLIENT_CONN).toBe("18976");
  });

  it.each(["postgres-small", "postgres-medium"])(
    "%s: at every size the pooler leaves the server room for backups, admins and a replica",
    (id) => {
      for (const size of Object.values(templates[id]!.sizes)) {
        expect(poolerSettings(size).maxDbConnections).toBeLessThanOrEqual(postgresSettings(size).maxConnections - 50);
      }
    },
  );

  it("postgres-small at small runs the server, its replica-less pooler and its limits with them", () => {
    const prepared = prepareRequest({
      template: "postgres-small",
      name: "db",
      team: "t",
      resourceId: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    });
    const images = { kubo: "k", ipfsCluster: "c", postgres: "p", pgbouncer: "b" };
    const { model } = buildSystem(prepared, {
      ports: { pgbouncer: 20000 },
      secrets: { password: "ab" },
      images,
      publishIp: "0.0.0.0",
      publicHost: "h",
    });
    const server = model.services.postgres!;
    expect(server.limits).toEqual({ cpus: 2, memoryMb: 4096 });
    expect(server.command).toEqual(["postgres", ...postgresArgs(postgresSettings({ cpus: 2, memoryMb: 4096, storageGb: 10 }))]);
    expect(server.command).toContain("shared_buffers=1024MB");
    expect(server.shmMb).toBe(512);
    const pooler = model.services.pgbouncer!;
    expect(pooler.environment).toMatchObject({
      MAX_CLIENT_CONN: "10000",
      DEFAULT_POOL_SIZE: "20",
      RESERVE_POOL_SIZE: "5",
      MAX_DB_CONNECTIONS: "25",
    });
    expect(pooler.nofile).toBe(11024);
    expect(pooler.limits).toEqual({ cpus: 1, memoryMb: 256 });
  });

  it("postgres-medium's replica runs with the primary's settings (a standby needs max_connections at least the primary's)", () => {
    const prepared = prepareRequest({
      template: "postgres-medium",
      name: "db",
      team: "t",
      resourceId: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    });
    const images = { kubo: "k", ipfsCluster: "c", postgres: "p", pgbouncer: "b" };
    const { model } = buildSystem(prepared, {
      ports: { pgbouncer: 20000, replica: 20001 },
      secrets: { password: "ab", replicationPassword: "cd" },
      images,
      publishIp: "0.0.0.0",
      publicHost: "h",
    });
    const tuning = postgresArgs(postgresSettings({ cpus: 4, memoryMb: 16384, storageGb: 50 }));
    expect(model.services.replica!.command).toEqual(tuning);
    expect(model.services.postgres!.command!.slice(0, 1 + tuning.length)).toEqual(["postgres", ...tuning]);
    expect(model.services.postgres!.command).toContain("wal_level=replica");
    expect(model.files["replica.sh"]).toContain('exec postgres -c hot_standby=on "$@"');
  });
});
