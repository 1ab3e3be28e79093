// The Kubernetes target on a real cluster, through the HTTP API: the local
// 2-node cluster the test bootstrap starts (or KUBECONFIG's), real Pulumi
// engine and provider, psql and ipfs-cluster-ctl as users run them.
// No cluster is a failure, never a skip: `npm test` provides one.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { eventually } from "./docker.js";
import { clusterClient, type PinStatus } from "./ipfs-cluster-client.js";
import { psql } from "./postgres-client.js";
import { client, discardUnfinishedOperations, waitForOperation, waitForStatus, type Client } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

const execFileAsync = promisify(execFile);
const kubeconfig = process.env.PROVISIONER_TEST_KUBECONFIG;
const publicHost = process.env.PROVISIONER_TEST_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1";

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", kubeconfig!, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
}
const podsOf = async (namespace: string) =>
  (JSON.parse(await kubectl("get", "pods", "-n", namespace, "-o", "json")) as { items: Pod[] }).items;

/** What of a resource is left in the cluster: its namespace and any volume that was claimed from it. */
async function leftInCluster(namespace: string): Promise<string[]> {
  const left: string[] = [];
  if ((await kubectl("get", "namespaces", "-o", "name")).split("\n").includes(`namespace/${namespace}`))
    left.push(`namespace/${namespace}`);
  const pvs = JSON.parse(await kubectl("get", "pv", "-o", "json")) as {
    items: { metadata: { name: string }; spec: { claimRef?: { namespace: string } } }[];
  };
  for (const pv of pvs.items) if (pv.spec.claimRef?.namespace === namespace) left.push(`pv/${pv.metadata.name}`);
  return left;
}

describe("the Kubernetes target on a real 2-node cluster, through the service", () => {
  let server: TestServer;
  let api: Client;
  const created: string[] = [];

  beforeAll(async () => {
    if (!kubeconfig) throw new Error("no cluster: PROVISIONER_TEST_KUBECONFIG is unset (run through `npm test`, which starts one)");
    const nodes = (await kubectl("get", "nodes", "-o", "name")).trim().split("\n");
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    server = await startTestServer(
      { PROVISIONER_KUBECONFIG: kubeconfig, PROVISIONER_KUBERNETES_PUBLIC_HOST: publicHost },
      { runWorker: false },
    );
    await discardUnfinishedOperations(server.service.db);
    server.service.worker!.start();
    const teams = new TeamService(server.service.db);
    api = client(server.base, (await teams.create(`k${crypto.randomBytes(3).toString("hex")}`, "PRO")).apiKey);
  }, 120_000);

  afterAll(async () => {
    for (const id of created) {
      const deleted = await api.delete(`/v1/resources/${id}`);
      if (deleted.body?.operation) await waitForOperation(api, id, deleted.body.operation.id, 300_000).catch(() => undefined);
    }
    await server?.close();
  }, 600_000);

  it("offers the target", async () => {
    const { body } = await api.get("/v1/openapi.json");
    expect(JSON.stringify(body)).toContain('"kubernetes"');
  });

  it("refuses an unknown size with a 400 naming the field, and creates nothing", async () => {
    const reply = await api.post("/v1/resources", {
      template: "postgres-medium",
      name: `bad${process.pid}`,
      size: "huge",
      target: "kubernetes",
    });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toContain("size");
    expect((await api.get("/v1/resources")).body.resources.filter((r: { name: string }) => r.name === `bad${process.pid}`)).toEqual([]);
  });

  it(
    "postgres-medium: primary and replica on different nodes, a row through PgBouncer on the replica, DELETE leaves nothing",
    { timeout: 900_000 },
    async () => {
      const reply = await api.post("/v1/resources", {
        template: "postgres-medium",
        name: `pg${process.pid}`,
        size: "small",
        target: "kubernetes",
      });
      expect(reply.status).toBe(202);
      const id = reply.body.resource.id as string;
      created.push(id);
      const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 600_000);
      expect(resource.lastError ?? null).toBeNull();
      expect(resource.status).toBe("ACTIVE");
      const namespace = hostNameOf(id);

      const pods = await podsOf(namespace);
      const nodeOf = (name: string) => pods.find((p) => p.metadata.name === name)?.spec.nodeName;
      expect(nodeOf("postgres-0")).toBeDefined();
      expect(nodeOf("replica-0")).toBeDefined();
      expect(nodeOf("postgres-0")).not.toBe(nodeOf("replica-0"));

      const credentials = (await api.get(`/v1/resources/${id}/credentials`)).body.credentials as Record<string, string>;
      const endpoint = resource.endpoint as Record<string, string>;
      expect(endpoint.host).toBe(publicHost);
      // Right after readiness kube-proxy may lag a second behind: retried.
      await eventually(
        async () => (await psql(endpoint, credentials, "SELECT 1").catch(() => undefined)) ?? undefined,
        60_000,
        "PgBouncer to answer",
      );
      await psql(endpoint, credentials, "CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, 'ada');");
      const owner = await eventually(
        async () =>
          (await psql(endpoint, credentials, "SELECT owner FROM accounts WHERE id = 1", { port: endpoint.replicaPort }).catch(() => "")) ||
          undefined,
        120_000,
        "the row on the replica",
      );
      expect(owner).toBe("ada");

      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(deleted.status).toBe(202);
      const operation = await waitForOperation(api, id, deleted.body.operation.id, 300_000);
      expect(operation.status).toBe("SUCCEEDED");
      created.splice(created.indexOf(id), 1);
      expect(await leftInCluster(namespace)).toEqual([]);
    },
  );

  it(
    "ipfs-cluster-small: peers on both nodes, a file pinned on 2 peers, served by every gateway, ipfs-cluster-ctl agrees",
    { timeout: 900_000 },
    async () => {
      const reply = await api.post("/v1/resources", {
        template: "ipfs-cluster-small",
        name: `ipfs${process.pid}`,
        size: "small",
        target: "kubernetes",
        options: { publicNetwork: false },
      });
      expect(reply.status).toBe(202);
      const id = reply.body.resource.id as string;
      created.push(id);
      const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 600_000);
      expect(resource.lastError ?? null).toBeNull();
      expect(resource.status).toBe("ACTIVE");
      const pods = await podsOf(hostNameOf(id));
      const peerNodes = new Set(pods.filter((p) => p.metadata.name.startsWith("cluster")).map((p) => p.spec.nodeName));
      expect(peerNodes.size).toBe(2);

      const suite = {
        endpoint: resource.endpoint as Record<string, string>,
        credentials: (await api.get(`/v1/resources/${id}/credentials`)).body.credentials,
      };
      const cluster = clusterClient(suite);
      await eventually(async () => ((await cluster.peerNames().catch(() => [])).length === 3 ? true : undefined), 120_000, "3 peers");
      const content = `k8s ${crypto.randomUUID()}`;
      const cid = await eventually(async () => cluster.add(content).catch(() => undefined), 120_000, "the REST API to take the file");
      await eventually(async () => ((await cluster.pinnedPeers(cid)).length >= 2 ? true : undefined), 120_000, "the pin on 2 peers");
      for (const gateway of [suite.endpoint.gateway0!, suite.endpoint.gateway1!, suite.endpoint.gateway2!]) {
        const body = await eventually(
          async () => {
            const response = await fetch(`${gateway}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
            return response?.ok ? response.text() : undefined;
          },
          120_000,
          `${gateway} to serve the file`,
        );
        expect(body).toBe(content);
      }
      const { hostname, port } = new URL(suite.endpoint.restApi!);
      const { stdout } = await execFileAsync("ipfs-cluster-ctl", [
        "--host",
        `/ip4/${hostname}/tcp/${port}`,
        "--basic-auth",
        `${suite.credentials.username}:${suite.credentials.password}`,
        "--force-http",
        "--enc",
        "json",
        "status",
        cid,
      ]);
      const status = JSON.parse(stdout) as PinStatus;
      const viaCtl = Object.values(status.peer_map)
        .filter((p) => p.status === "pinned")
        .map((p) => p.peername);
      expect(viaCtl.sort()).toEqual((await cluster.pinnedPeers(cid)).sort());
    },
  );

  it("a kubeconfig whose cluster does not answer: FAILED with the reason, nothing left", { timeout: 600_000 }, async () => {
    // The real cluster's credentials, pointed at an address nothing answers on.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-unreachable-"));
    const unreachable = path.join(dir, "kubeconfig");
    fs.writeFileSync(unreachable, fs.readFileSync(kubeconfig!, "utf8").replace(/server: .*/, "server: https://127.0.0.1:9"));
    const other = await startTestServer({ PROVISIONER_KUBECONFIG: unreachable, PROVISIONER_KUBERNETES_PUBLIC_HOST: publicHost });
    try {
      const teams = new TeamService(other.service.db);
      const otherApi = client(other.base, (await teams.create(`u${crypto.randomBytes(3).toString("hex")}`, "PRO")).apiKey);
      const reply = await otherApi.post("/v1/resources", { template: "postgres-small", name: `un${process.pid}`, target: "kubernetes" });
      expect(reply.status).toBe(202);
      const id = reply.body.resource.id as string;
      const resource = await waitForStatus(otherApi, id, ["ACTIVE", "FAILED"], 500_000);
      expect(resource.status).toBe("FAILED");
      expect(resource.lastError).toMatch(/127\.0\.0\.1:9|connection refused|unreachable|failed to/i);
      expect(await leftInCluster(hostNameOf(id))).toEqual([]);
      const deleted = await otherApi.delete(`/v1/resources/${id}`);
      if (deleted.body?.operation) await waitForOperation(otherApi, id, deleted.body.operation.id, 300_000);
    } finally {
      await other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
