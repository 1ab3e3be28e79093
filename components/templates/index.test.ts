import { describe, expect, it } from "vitest";
import { deriveIdentity } from "../model/identity.js";
import { buildSystem, prepareRequest, templates } from "./index.js";
import { TemplateInputError } from "./request.js";

const images = { kubo: "kubo:t", ipfsCluster: "cluster:t", postgres: "postgres:t", pgbouncer: "pgbouncer:t" };
const secrets = {
  clusterSecret: "ab".repeat(32),
  identitySeed: "cd".repeat(32),
  restApiPassword: "ef".repeat(24),
  apiPassword: "12".repeat(24),
  password: "34".repeat(24),
};
const resourceId = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";
const project = "r5d4c3b2a1f0e4d9c8b7a6f5e4d3c2b1a";
const inputs = (ports: Record<string, number>) => ({ ports, secrets, images, publishIp: "0.0.0.0", publicHost: "host.example" });

describe("prepareRequest", () => {
  it("lists every template of the product", () => {
    expect(Object.keys(templates).sort()).toEqual([
      "ipfs-cluster-small",
      "large-storage",
      "medium-storage",
      "postgres-medium",
      "postgres-small",
      "small-storage",
    ]);
  });

  it.each([
    [{ template: "nope", name: "a", team: "t", resourceId }, "template"],
    [{ template: "postgres-small", name: "a b", team: "t", resourceId }, "name"],
    [{ template: "postgres-small", name: "../x", team: "t", resourceId }, "name"],
    [{ template: "postgres-small", name: "a;b", team: "t", resourceId }, "name"],
    [{ template: "postgres-small", name: "a".repeat(200), team: "t", resourceId }, "name"],
    [{ template: "postgres-small", name: "a", team: "T!", resourceId }, "team"],
    [{ template: "postgres-small", name: "a", team: "t", size: "huge", resourceId }, "size"],
    [{ template: "postgres-small", name: "a", team: "t", options: { backupTime: "25:00" }, resourceId }, "options.backupTime"],
    [{ template: "postgres-small", name: "a", team: "t", options: { extra: 1 }, resourceId }, "options.extra"],
    [{ template: "ipfs-cluster-small", name: "a", team: "t", options: { peers: 10 }, resourceId }, "options.peers"],
    [
      { template: "ipfs-cluster-small", name: "a", team: "t", options: { replicationMin: 3, replicationMax: 2 }, resourceId },
      "options.replicationMin",
    ],
    [{ template: "postgres-small", name: "a", team: "t", resourceId: "acme-x-z" }, "resourceId"],
    [{ template: "postgres-small", name: "a", team: "t", resourceId, hostName: "../x" }, "hostName"],
  ])("refuses %j naming %s", (request, field) => {
    try {
      prepareRequest(request);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateInputError);
      expect((error as TemplateInputError).field).toBe(field);
    }
  });
});

describe("host-side names", () => {
  it("come from the resource id: teams whose team and name concatenate alike never share one", () => {
    const acme = prepareRequest({ template: "small-storage", name: "x-z", team: "acme", resourceId });
    const acmeX = prepareRequest({
      template: "small-storage",
      name: "z",
      team: "acme-x",
      resourceId: "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
    });
    expect(acme.project).toBe(project);
    expect(acmeX.project).toBe("r9e8d7c6b5a4f4e3d9c2b1a0f9e8d7c6b");
    const names = (prepared: typeof acme) => {
      const { model } = buildSystem(prepared, inputs({ api: 19010, gateway: 19011 }));
      return JSON.stringify(model).includes("acme-x-z");
    };
    expect(names(acme) || names(acmeX)).toBe(false);
  });

  it("label every object with team, name and id", () => {
    const { model } = buildSystem(
      prepareRequest({ template: "small-storage", name: "x-z", team: "acme", resourceId }),
      inputs({ api: 19010, gateway: 19011 }),
    );
    expect(model.labels).toEqual({
      "provisioner.team": "acme",
      "provisioner.resource": "x-z",
      "provisioner.resource-id": resourceId,
      "provisioner.template": "small-storage",
    });
  });

  it("stay what they were for a resource created before (its stored host name)", () => {
    expect(prepareRequest({ template: "small-storage", name: "x-z", team: "acme", resourceId, hostName: "acme-x-z" }).project).toBe(
      "acme-x-z",
    );
  });
});

describe("ipfs-cluster-small", () => {
  const prepared = prepareRequest({ template: "ipfs-cluster-small", name: "files", team: "web", resourceId });
  const ports = {
    restApi: 19000,
    pinningServiceApi: 19001,
    gateway0: 19002,
    gateway1: 19003,
    gateway2: 19004,
    metrics: 19005,
    gateway: 19006,
  };

  it("defaults to 3 peers replicating between 2 and 3, and asks for their ports", () => {
    expect(prepared.options).toEqual({ peers: 3, replicationMin: 2, replicationMax: 3, publicNetwork: true });
    expect(prepared.portNames).toEqual(Object.keys(ports));
    expect(prepared.secretSizes).toEqual({ clusterSecret: 32, identitySeed: 32, restApiPassword: 24 });
  });

  it("runs a Kubo node and a cluster peer per peer, bootstrapped to each other", () => {
    const { model, outputs } = buildSystem(prepared, inputs(ports));
    expect(Object.keys(model.services).sort()).toEqual([
      "cluster0",
      "cluster1",
      "cluster2",
      "gateway",
      "ipfs0",
      "ipfs1",
      "ipfs2",
      "metrics",
    ]);
    const peer1 = model.services.cluster1!;
    const id = (i: number) => deriveIdentity(secrets.identitySeed, i).id;
    expect(peer1.environment).toMatchObject({
      CLUSTER_PEERNAME: "cluster1",
      CLUSTER_SECRET: secrets.clusterSecret,
      CLUSTER_ID: id(1),
      CLUSTER_PEERADDRESSES: `/dns4/cluster0/tcp/9096/p2p/${id(0)}`,
      CLUSTER_CRDT_CLUSTERNAME: project,
      CLUSTER_CRDT_TRUSTEDPEERS: "*",
      CLUSTER_REPLICATIONFACTORMIN: "2",
      CLUSTER_REPLICATIONFACTORMAX: "3",
      CLUSTER_IPFSHTTP_NODEMULTIADDRESS: "/dns4/ipfs1/tcp/5001",
      CLUSTER_IPFSPROXY_NODEMULTIADDRESS: "/dns4/ipfs1/tcp/5001",
      CLUSTER_RESTAPI_BASICAUTHCREDENTIALS: `admin:${secrets.restApiPassword}`,
    });
    expect(model.services.cluster2!.environment!.CLUSTER_PEERADDRESSES).toBe(
      `/dns4/cluster0/tcp/9096/p2p/${id(0)},/dns4/cluster1/tcp/9096/p2p/${id(1)}`,
    );
    expect(model.services.cluster0!.environment!.CLUSTER_PEERADDRESSES).toBe("");
    expect(peer1.ports).toBeUndefined();
    expect(model.services.cluster0!.ports).toEqual([
      { host: 19000, container: 9094, hostIp: "0.0.0.0" },
      { host: 19001, container: 9097, hostIp: "0.0.0.0" },
    ]);
    // Kubo: gateway published, RPC API (5001) not.
    expect(model.services.ipfs2!.ports).toEqual([{ host: 19004, container: 8080, hostIp: "0.0.0.0" }]);
    expect(model.services.ipfs2!.environment).toMatchObject({ PROVISIONER_STORAGE_MAX: "10GB" });
    expect(model.services.ipfs2!.image).toBe("kubo:t");
    // Metrics: one proxy forwarding /ipfs<i>/debug/metrics/prometheus only, the RPC API stays private.
    expect(model.services.metrics).toMatchObject({
      image: "postgres:t",
      command: ["9401", "ipfs0=ipfs0:5001", "ipfs1=ipfs1:5001", "ipfs2=ipfs2:5001"],
      ports: [{ host: 19005, container: 9401, hostIp: "0.0.0.0" }],
    });
    expect(model.files["metrics-proxy.pl"]).toContain("/debug/metrics/prometheus");
    // One load-balanced gateway over every node's gateway.
    expect(model.services.gateway).toMatchObject({
      image: "postgres:t",
      command: ["serve", "8080", "ipfs0=ipfs0:8080", "ipfs1=ipfs1:8080", "ipfs2=ipfs2:8080"],
      ports: [{ host: 19006, container: 8080, hostIp: "0.0.0.0" }],
    });
    expect(outputs.endpoint).toEqual({
      restApi: "http://host.example:19000",
      pinningServiceApi: "http://host.example:19001",
      gateway: "http://host.example:19006",
      gateway0: "http://host.example:19002",
      gateway1: "http://host.example:19003",
      gateway2: "http://host.example:19004",
      metrics: "http://host.example:19005",
    });
    expect(JSON.stringify(outputs.endpoint)).not.toContain(secrets.restApiPassword);
    expect(outputs.credentials).toEqual({ username: "admin", password: secrets.restApiPassword });
  });

  it("when a port of the allocation is missing, then it names it", () => {
    expect(() => buildSystem(prepared, inputs({ ...ports, gateway2: undefined as unknown as number }))).toThrow(/^ports.gateway2: /);
  });
});

describe("storage templates", () => {
  it.each([
    ["small-storage", "5GB"],
    ["medium-storage", "25GB"],
    ["large-storage", "100GB"],
  ])("%s runs one Kubo node with StorageMax %s, its RPC API published only through the guard", (template, storageMax) => {
    const { model, outputs } = buildSystem(
      prepareRequest({ template, name: "blobs", team: "t", resourceId }),
      inputs({ api: 19010, gateway: 19011 }),
    );
    expect(Object.keys(model.services)).toEqual(["ipfs", "rpc"]);
    expect(model.services.ipfs!.environment).toEqual({ PROVISIONER_STORAGE_MAX: storageMax, PROVISIONER_PUBLIC_NETWORK: "true" });
    expect(model.services.ipfs!.ports).toEqual([{ host: 19011, container: 8080, hostIp: "0.0.0.0" }]);
    // The guard checks the credentials (from its environment, never its command line) and forwards to Kubo's private port.
    const guard = model.services.rpc!;
    expect(guard).toMatchObject({
      image: "postgres:t",
      command: ["serve", "5001", "ipfs:5001"],
      dependsOn: ["ipfs"],
      ports: [{ host: 19010, container: 5001, hostIp: "0.0.0.0" }],
    });
    expect(guard.environment).toEqual({
      PROVISIONER_RPC_AUTHORIZATION: `Basic ${Buffer.from(`provisioner:${secrets.apiPassword}`).toString("base64")}`,
    });
    expect(JSON.stringify([guard.entrypoint, guard.command, guard.healthCheck])).not.toContain(secrets.apiPassword);
    expect(model.files["kubo-rpc-guard.pl"]).toContain("/debug/metrics/prometheus");
    expect(outputs.endpoint).toEqual({ api: "http://host.example:19010", gateway: "http://host.example:19011" });
    expect(outputs.credentials).toEqual({ username: "provisioner", password: secrets.apiPassword });
  });
});

describe("postgres-small", () => {
  it("runs PostgreSQL, PgBouncer (published) and a backup sidecar with generated credentials", () => {
    const prepared = prepareRequest({ template: "postgres-small", name: "orders", team: "shop", resourceId });
    const { model, outputs } = buildSystem(prepared, inputs({ pgbouncer: 19020 }));
    expect(Object.keys(model.services)).toEqual(["postgres", "pgbouncer", "backup"]);
    expect(model.services.postgres!.ports).toBeUndefined();
    expect(model.services.pgbouncer!.ports).toEqual([{ host: 19020, container: 5432, hostIp: "0.0.0.0" }]);
    expect(model.services.pgbouncer!.environment).toMatchObject({
      DB_HOST: "postgres",
      DB_USER: `${project}_app`,
      DB_NAME: project,
      AUTH_TYPE: "scram-sha-256",
      POOL_MODE: "transaction",
    });
    expect(model.services.backup!.environment).toMatchObject({ BACKUP_TIME: "02:00", BACKUP_RETENTION: "7", BACKUP_BASE: "0" });
    expect(model.services.backup!.healthCheck!.test).toEqual(["CMD", "sh", "/etc/provisioner/backup.sh", "health"]);
    expect(model.services.backup!.beforeDown).toBe("sh /etc/provisioner/backup.sh final");
    // The server's superuser is postgres; the resource's role is made (not a superuser) by an init script.
    expect(model.services.postgres!.environment).toMatchObject({
      POSTGRES_USER: "postgres",
      POSTGRES_DB: project,
      PROVISIONER_APP_ROLE: `${project}_app`,
      PROVISIONER_APP_PASSWORD: secrets.password,
    });
    expect(model.services.postgres!.environment!.POSTGRES_PASSWORD).toBeUndefined();
    expect(model.files["app-role.sh"]).toContain("CREATE ROLE");
    expect(model.files["app-role.sh"]).not.toMatch(/SUPERUSER/);
    expect(outputs.endpoint).toEqual({
      host: "host.example",
      port: "19020",
      database: project,
      url: `postgresql://host.example:19020/${project}`,
    });
    expect(outputs.credentials.connectionString).toBe(`postgresql://${project}_app:${secrets.password}@host.example:19020/${project}`);
  });
});

describe("a database restored from another resource's backups", () => {
  const source = "r0123456789abcdef0123456789abcdef";
  it("mounts the source's store read-only and restores a dump at the first start", () => {
    const prepared = prepareRequest({
      template: "postgres-small",
      name: "copy",
      team: "shop",
      resourceId,
      restoreFrom: { hostName: source, backup: "dumps/20261125T170000Z.dump" },
    });
    const { model } = buildSystem(prepared, { ...inputs({ pgbouncer: 19020 }), backupsDir: "/srv/backups" });
    const postgres = model.services.postgres!;
    expect(postgres.mounts).toContainEqual({ source: `host:/srv/backups/${source}`, target: "/restore-source", readOnly: true });
    expect(postgres.environment).toMatchObject({ RESTORE_BACKUP: "dumps/20261125T170000Z.dump", RESTORE_SOURCE_DATABASE: source });
    expect(model.files["restore.sh"]).toContain("pg_restore");
  });

  it("takes a point in time from a source's base backups and WAL", () => {
    const prepared = prepareRequest({
      template: "postgres-medium",
      name: "copy",
      team: "shop",
      resourceId,
      restoreFrom: { hostName: source, pointInTime: "2026-11-25T17:00:00.123Z" },
    });
    const { model } = buildSystem(prepared, inputs({ pgbouncer: 19030, replica: 19031 }));
    expect(model.services.postgres!.environment).toMatchObject({ RESTORE_POINT_IN_TIME: "2026-11-25T17:00:00.123Z" });
  });

  it.each([
    [{ hostName: source }, "restoreFrom"],
    [{ hostName: source, backup: "dumps/x.dump", pointInTime: "2026-11-25T17:00:00Z" }, "restoreFrom"],
    [{ hostName: source, backup: "../../etc/passwd" }, "restoreFrom.backup"],
    [{ hostName: source, pointInTime: "now'; drop" }, "restoreFrom.pointInTime"],
    [{ hostName: "../x", backup: "dumps/20261125T170000Z.dump" }, "restoreFrom.resource"],
  ])("refuses %j naming %s", (restoreFrom, field) => {
    expect(() => prepareRequest({ template: "postgres-small", name: "copy", team: "shop", resourceId, restoreFrom })).toThrow(
      new RegExp(`^${field.replace(".", "\\.")}: `),
    );
  });
});

describe("before an update that changes images (PATCH versions)", () => {
  it.each(["postgres-small", "postgres-medium"])("%s takes a backup with its sidecar when the server's image changes", (template) => {
    const prepared = prepareRequest({ template, name: "db", team: "t", resourceId });
    const { model } = buildSystem(prepared, inputs({ pgbouncer: 19020, replica: 19021 }));
    const script = model.beforeUp!.join("\n");
    expect(script).toContain(`[ "$(docker inspect -f '{{.Config.Image}}' "$PROJECT-postgres")" != 'postgres:t' ]`);
    expect(script).toContain('docker exec "$PROJECT-backup" sh /etc/provisioner/backup.sh once before-upgrade');
  });

  it("ipfs-cluster-small rolls its nodes one at a time, in order, each waited for before the next", () => {
    const prepared = prepareRequest({ template: "ipfs-cluster-small", name: "c", team: "t", resourceId });
    const ports = { restApi: 1, pinningServiceApi: 2, gateway0: 3, gateway1: 4, gateway2: 5, metrics: 6, gateway: 7 };
    const script = buildSystem(prepared, inputs(ports)).model.beforeUp!.join("\n");
    const recreations = [...script.matchAll(/up -d --no-deps (\S+ \S+)$/gm)].map((m) => m[1]);
    expect(recreations).toEqual(["ipfs0 cluster0", "ipfs1 cluster1", "ipfs2 cluster2"]);
    for (let i = 0; i < 3; i++) {
      const step = script.slice(script.indexOf(`--no-deps ipfs${i} cluster${i}`));
      expect(step.indexOf(`roll_settled "$PROJECT-cluster${i}" --local`)).toBeGreaterThan(0);
      expect(step.indexOf(`roll_in_peerset "$PROJECT-cluster${(i + 1) % 3}" cluster${i}`)).toBeGreaterThan(0);
    }
  });
});

describe("postgres-medium", () => {
  it("adds a published read-only replica and WAL archiving to postgres-small", () => {
    // A resource created before names came from ids keeps its database name.
    const prepared = prepareRequest({ template: "postgres-medium", name: "ledger", team: "fin", resourceId, hostName: "fin-ledger" });
    expect(prepared.size).toBe("medium");
    expect(prepared.secretSizes).toEqual({ password: 24, replicationPassword: 24 });
    const { model, outputs } = buildSystem(prepared, inputs({ pgbouncer: 19030, replica: 19031 }));
    expect(Object.keys(model.services)).toEqual(["postgres", "pgbouncer", "backup", "replica"]);
    expect(model.services.postgres!.command).toEqual(
      expect.arrayContaining(["archive_mode=on", "wal_level=replica", "archive_command=test ! -f /archive/%f && cp %p /archive/%f"]),
    );
    expect(model.services.replica!.ports).toEqual([{ host: 19031, container: 5432, hostIp: "0.0.0.0" }]);
    expect(model.services.replica!.dependsOn).toEqual(["postgres"]);
    // Dumps, base backups and the WAL archive are in the backup store, a host folder that outlives the resource.
    expect(model.volumes).toEqual(["pgdata", "replica-data"]);
    expect(model.services.postgres!.mounts).toContainEqual({
      source: "host:/var/lib/provisioner/backups/fin-ledger/wal",
      target: "/archive",
      readOnly: false,
    });
    expect(model.services.backup!.mounts).toContainEqual({
      source: "host:/var/lib/provisioner/backups/fin-ledger",
      target: "/backups",
      readOnly: false,
    });
    expect(model.services.backup!.environment).toMatchObject({ BACKUP_BASE: "1", BACKUP_MAX_AGE_SECONDS: "129600" });
    // 10 % of the default size's 50 GB of storage.
    expect(model.services.postgres!.command).toContain("max_slot_wal_keep_size=5120MB");
    expect(Object.keys(model.files).sort()).toEqual(["app-role.sh", "backup.sh", "primary-init.sh", "replica.sh"]);
    expect(outputs.endpoint.replicaUrl).toBe("postgresql://host.example:19031/fin_ledger");
    expect(JSON.stringify(outputs.endpoint)).not.toContain(secrets.password);
  });
});

describe("every template's system", () => {
  const requests: { template: string; ports: Record<string, number> }[] = [
    {
      template: "ipfs-cluster-small",
      ports: { restApi: 1, pinningServiceApi: 2, gateway0: 3, gateway1: 4, gateway2: 5, metrics: 6, gateway: 7 },
    },
    { template: "small-storage", ports: { api: 1, gateway: 2 } },
    { template: "postgres-small", ports: { pgbouncer: 1 } },
    { template: "postgres-medium", ports: { pgbouncer: 1, replica: 2 } },
  ];
  const allSecrets = { ...secrets, replicationPassword: "56".repeat(24) };

  it.each(requests)("$template keeps every generated secret out of command lines and health checks", ({ template, ports }) => {
    const { model } = buildSystem(prepareRequest({ template, name: "x", team: "t", resourceId }), {
      ...inputs(ports),
      secrets: allSecrets,
    });
    const commandLines = JSON.stringify([
      model.beforeUp,
      model.afterUp,
      model.tasks,
      ...Object.values(model.services).map((s) => [s.entrypoint, s.command, s.healthCheck]),
    ]);
    for (const secret of Object.values(allSecrets)) expect(commandLines).not.toContain(secret);
    // Scripts that hand a secret to a program read it from the environment, not from a literal.
    for (const content of Object.values(model.files)) for (const secret of Object.values(allSecrets)) expect(content).not.toContain(secret);
    // ...and never expand it into a program's arguments: a one-shot `psql -c` at init is too quick for the ps test to catch.
    const scripts = [...Object.values(model.files), commandLines].join("\n");
    expect(scripts).not.toMatch(/\s-c\s+"[^"\n]*\$\{?[A-Z_]*(PASSWORD|SECRET|CREDENTIALS)/);
    expect(scripts).not.toMatch(/--(basic-auth|api-auth)[ =]/);
  });

  it.each(requests)("$template names a user or the capabilities its images' entry points need", ({ template, ports }) => {
    const { model } = buildSystem(prepareRequest({ template, name: "x", team: "t", resourceId }), inputs(ports));
    for (const [name, service] of Object.entries(model.services)) {
      const root = service.user === undefined || service.user === "root";
      // Root without capabilities is only the backup sidecar writing its own root-owned volume.
      if (root && !service.capabilities) expect(name).toBe("backup");
      for (const capability of service.capabilities ?? [])
        expect(["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "SETUID", "SETGID"]).toContain(capability);
    }
  });
});
