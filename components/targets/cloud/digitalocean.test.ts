// The DigitalOcean target's resource graph for every template, and the
// managed-database option of the postgres templates, with Pulumi's mocks
// standing in for the DigitalOcean API (no engine, no plugin: it cannot be
// built here, see README).
import * as digitalocean from "@pulumi/digitalocean";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TemplateSystem as TemplateSystemType } from "../../template-system.js";
import { prepareRequest } from "../../templates/index.js";
import {
  byName,
  clientPublicKey,
  commonGraph,
  expectDeployOverSsh,
  expectNoPlainSecrets,
  graph,
  hostPublicKey,
  isSecret,
  isSecretInput,
  outputOf,
  publicCidrs,
  registered,
  resetRecords,
  secretValue,
  serverIp,
  setUpMocks,
  sorted,
  sshCidr,
  templateCases,
  project,
  resourceId,
} from "../../../test/cloud-mocks.js";

let TemplateSystem: typeof TemplateSystemType;
beforeAll(async () => {
  await setUpMocks();
  ({ TemplateSystem } = await import("../../template-system.js"));
});
beforeEach(resetRecords);

const tags = (template: string) => [
  "provisioner-team:qa",
  "provisioner-resource:res",
  `provisioner-resource-id:${resourceId}`,
  `provisioner-template:${template}`,
];
const serverTypes: Record<string, string> = {
  "ipfs-cluster-small": "s-4vcpu-8gb",
  "postgres-small": "s-4vcpu-8gb",
  "postgres-medium": "g-16vcpu-64gb",
  "small-storage": "s-1vcpu-2gb",
  "medium-storage": "s-1vcpu-2gb",
  "large-storage": "s-1vcpu-2gb",
};

function deploy(template: string, ports: Record<string, number>, settings: Record<string, unknown> = {}) {
  const provider = new digitalocean.Provider("digitalocean", { token: "placeholder-token" });
  return new TemplateSystem(
    "res",
    { template, name: "res", team: "qa", resourceId, ports, digitalocean: { region: "fra1", sshCidrs: [sshCidr], ...settings } },
    { providers: [provider] },
  );
}

describe("DigitalOcean target (mocked cloud API)", () => {
  describe.each(templateCases)("$template on a droplet", ({ template, ports, volumeGb }) => {
    const secretNames = Object.keys(prepareRequest({ template, name: "res", team: "qa", resourceId }).secretSizes);

    it("registers exactly the droplet, its tag-bound firewall, SSH key, data volume and the deploy over SSH, through the given provider", async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(graph()).toEqual(
        sorted([
          ["pulumi:providers:digitalocean", "digitalocean"],
          ...commonGraph(secretNames, "digitalocean", "provisioner:digitalocean:Server"),
          ["digitalocean:index/sshKey:SshKey", "res-digitalocean-ssh-key"],
          ["digitalocean:index/tag:Tag", "res-digitalocean-firewall-tag"],
          ["digitalocean:index/firewall:Firewall", "res-digitalocean-firewall"],
          ["digitalocean:index/volume:Volume", "res-digitalocean-data"],
          ["digitalocean:index/droplet:Droplet", "res-digitalocean-server"],
        ]),
      );
      for (const r of registered.filter((r) => r.type.startsWith("digitalocean:")))
        expect(r.provider).toMatch(/::pulumi:providers:digitalocean::digitalocean::/);
    });

    it("lets in SSH from the configured CIDR and the template's published ports, nothing else; guards the droplet from its first boot", async () => {
      await outputOf(deploy(template, ports).endpoint);
      const firewall = byName("res-digitalocean-firewall").inputs;
      expect(firewall.inboundRules).toEqual([
        { protocol: "tcp", portRange: "22", sourceAddresses: [sshCidr] },
        ...Object.values(ports).map((port) => ({ protocol: "tcp", portRange: String(port), sourceAddresses: publicCidrs })),
      ]);
      expect(firewall.tags).toEqual([`provisioner-firewall:${project}`]);
      expect(byName("res-digitalocean-server").inputs.tags).toEqual([...tags(template), `provisioner-firewall:${project}`]);
      expect(registered.filter((r) => r.type.includes("irewall"))).toHaveLength(1);
    });

    it(`sizes the droplet (${serverTypes[template]}) and a ${volumeGb} GB volume, and boots Debian with the generated keys`, async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(byName("res-digitalocean-data").inputs).toEqual({
        name: `${project}-data`,
        region: "fra1",
        size: volumeGb,
        initialFilesystemType: "ext4",
        description: `data of ${project}`,
        tags: tags(template),
      });
      const droplet = byName("res-digitalocean-server").inputs;
      expect(droplet).toMatchObject({
        name: `${project}`,
        image: "debian-12-x64",
        region: "fra1",
        size: serverTypes[template],
        volumeIds: ["res-digitalocean-data-id"],
        monitoring: true,
      });
      expect(droplet.sshKeys).toEqual(["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"]);
      expect(byName("res-digitalocean-ssh-key").inputs).toEqual({ name: `${project}`, publicKey: clientPublicKey });
      expect(isSecretInput(droplet.userData)).toBe(true);
      const userData = secretValue(droplet.userData) as string;
      expect(userData).toContain(`${hostPublicKey} ${project}`);
      expect(userData).toContain(`- /dev/disk/by-id/scsi-0DO_Volume_${project}-data\n`);
    });

    it("deploys the Compose project over SSH with the generated key (secret) and the pinned host key", async () => {
      const system = deploy(template, ports);
      expect(JSON.stringify(await outputOf(system.endpoint))).toContain(serverIp);
      expectDeployOverSsh(byName("res-deploy"));
      expect(await isSecret(system.credentials)).toBe(true);
      expectNoPlainSecrets();
    });
  });

  describe.each([
    ["postgres-small", { pgbouncer: 19010 }, false],
    ["postgres-medium", { pgbouncer: 19020, replica: 19021 }, true],
  ] as const)("%s on DigitalOcean Managed PostgreSQL", (template, ports, replica) => {
    it(`registers a cluster, database, role, connection pool, trusted sources${replica ? " and a read-only replica node" : ""}; no droplet, no deploy, no generated secret`, async () => {
      await outputOf(deploy(template, ports, { managedDatabase: true }).endpoint);
      expect(graph()).toEqual(
        sorted([
          ["pulumi:providers:digitalocean", "digitalocean"],
          ["provisioner:index:TemplateSystem", "res"],
          ["provisioner:digitalocean:Postgres", "res-digitalocean"],
          ["digitalocean:index/databaseCluster:DatabaseCluster", "res-digitalocean-db"],
          ["digitalocean:index/databaseDb:DatabaseDb", "res-digitalocean-db-database"],
          ["digitalocean:index/databaseUser:DatabaseUser", "res-digitalocean-db-user"],
          ["digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", "res-digitalocean-db-pool"],
          ["digitalocean:index/databaseFirewall:DatabaseFirewall", "res-digitalocean-db-firewall"],
          ...(replica ? [["digitalocean:index/databaseReplica:DatabaseReplica", "res-digitalocean-db-replica"] as [string, string]] : []),
        ]),
      );
    });

    it("sizes the cluster from the template's size, pools with the template's pool mode, trusts only the public IPv4 sources", async () => {
      await outputOf(deploy(template, ports, { managedDatabase: true, publicCidrs: ["192.0.2.0/24", "2001:db8::/32"] }).endpoint);
      // The template's size: 2 vCPUs / 4 GB, or 4 vCPUs / 16 GB.
      const size = template === "postgres-small" ? "db-s-2vcpu-4gb" : "db-s-6vcpu-16gb";
      expect(byName("res-digitalocean-db").inputs).toEqual({
        name: `${project}`,
        engine: "pg",
        version: "15",
        size,
        region: "fra1",
        nodeCount: 1,
        tags: tags(template),
      });
      expect(byName("res-digitalocean-db-database").inputs).toEqual({ clusterId: "res-digitalocean-db-id", name: `${project}` });
      expect(byName("res-digitalocean-db-user").inputs).toEqual({ clusterId: "res-digitalocean-db-id", name: `${project}_app` });
      expect(byName("res-digitalocean-db-pool").inputs).toEqual({
        clusterId: "res-digitalocean-db-id",
        name: `${project}`,
        mode: "transaction",
        size: template === "postgres-small" ? 20 : 40,
        dbName: project,
        user: `${project}_app`,
      });
      expect(byName("res-digitalocean-db-firewall").inputs).toEqual({
        clusterId: "res-digitalocean-db-id",
        rules: [{ type: "ip_addr", value: "192.0.2.0/24" }],
      });
      if (replica) {
        expect(byName("res-digitalocean-db-replica").inputs).toEqual({
          clusterId: "res-digitalocean-db-id",
          name: `${project}-replica`,
          size,
          region: "fra1",
          tags: tags(template),
        });
      }
    });

    it("returns outputs of the template's shape: the pool's address, the replica's, the role's password as a secret", async () => {
      const system = deploy(template, ports, { managedDatabase: true });
      const endpoint = await outputOf(system.endpoint);
      expect(endpoint).toMatchObject({
        host: "pool.db.ondigitalocean.com",
        port: "25061",
        database: `${project}`,
        url: `postgresql://pool.db.ondigitalocean.com:25061/${project}?sslmode=require`,
      });
      if (replica) expect(endpoint.replicaUrl).toBe(`postgresql://replica.db.ondigitalocean.com:25060/${project}?sslmode=require`);
      expect(await outputOf(system.credentials)).toMatchObject({ username: `${project}_app`, password: "do-generated-password" });
      expect(await isSecret(system.credentials)).toBe(true);
      expect(await isSecret(system.endpoint)).toBe(false);
    });
  });

  it("when a template other than postgres asks for a managed database, then it throws before registering anything", () => {
    expect(() => deploy("small-storage", { api: 1, gateway: 2 }, { managedDatabase: true })).toThrow(
      "digitalocean.managedDatabase: only the postgres templates run on a managed database",
    );
    expect(registered.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });

  it("when no region is given, then it throws before registering anything", () => {
    expect(() => deploy("small-storage", { api: 1, gateway: 2 }, { region: undefined })).toThrow("digitalocean.region: is required");
    expect(registered.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });
});
