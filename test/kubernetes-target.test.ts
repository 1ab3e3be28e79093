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
import { resolveImages } from "../components/images.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { imagesWith, versionOf } from "../components/versions.js";
import { eventually } from "./docker.js";
import { clusterClient, watchReplication, type PinStatus } from "./ipfs-cluster-client.js";
import { psql } from "./postgres-client.js";
import { client, discardUnfinishedOperations, waitForOperation, waitForStatus, type Client } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

const execFileAsync = promisify(execFile);
const kubeconfig = process.env.PROVISIONER_TEST_KUBECONFIG;
const publicHost = process.env.PROVISIONER_TEST_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1";
/** `<script> cut|restore <node>`: the local cluster's way to take a node off the network (tools/kubernetes/node.sh). */
const nodeControl = process.env.PROVISIONER_TEST_KUBERNETES_NODE_CONTROL;
/** The local test cluster's folder (tools/kubernetes: its kubeconfig is pki/admin.kubeconfig there); unset for a cluster of KUBECONFIG. */
const localClusterDir = nodeControl && kubeconfig ? path.dirname(path.dirname(kubeconfig)) : undefined;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", kubeconfig!, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

interface BackupsView {
  backups: { id: string; kind: string; reason?: string; verified: boolean; sizeBytes: number }[];
  problem: string | null;
  lastBackupAt: string | null;
  lastVerification: { ok: boolean } | null;
  keptUntil: string | null;
  restorableRange: { from: string; to: string } | null;
}

interface Pod {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { phase?: string };
}
/** The namespace's running pods (not finished jobs'). */
const podsOf = async (namespace: string) =>
  (JSON.parse(await kubectl("get", "pods", "-n", namespace, "-o", "json")) as { items: Pod[] }).items.filter(
    (p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed",
  );

/** Each Kubo node's connections and peerings, to say why a gateway could not fetch. */
async function kuboConnections(namespace: string, nodes: number): Promise<string> {
  const lines: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const run = (...args: string[]) => kubectl("-n", namespace, "exec", `ipfs${i}-0`, "--", "ipfs", ...args).catch((e: Error) => e.message);
    lines.push(`ipfs${i}: swarm peers:\n${await run("swarm", "peers")}\npeering:\n${await run("swarm", "peering", "ls")}`);
  }
  return lines.join("\n");
}

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
      // Health rounds every 5 s: a lost node is seen within a round.
      { PROVISIONER_KUBECONFIG: kubeconfig, PROVISIONER_KUBERNETES_PUBLIC_HOST: publicHost, HEALTH_CHECK_INTERVAL_SECONDS: "5" },
      { runWorker: false },
    );
    server.service.health.start();
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
    "postgres-medium: primary and replica on different nodes, a row through PgBouncer on the replica, verified backups (first, CronJob, on demand) listed by the API and restored, a point in time restored on a Docker host, archiving failures reported, DELETE leaves no namespace, claim or volume and its final dump restores on a Docker host",
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

      // The storage quota on Kubernetes is each claim's size; local-path does not hold a volume to it, and the configuration says so.
      expect(resource.configuration.storage).toMatchObject({
        quota: "not enforced",
        method: expect.stringContaining("PersistentVolumeClaim"),
      });
      expect(Object.keys(resource.configuration.storage.sizesMb).sort()).toEqual(["backup-store", "pgdata", "replica-data"]);
      const claims = JSON.parse(await kubectl("-n", namespace, "get", "pvc", "-o", "json")) as {
        items: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[];
      };
      for (const claim of claims.items) {
        const volume = Object.keys(resource.configuration.storage.sizesMb).find(
          (v) => claim.metadata.name === v || claim.metadata.name.startsWith(`${v}-`),
        )!;
        expect(claim.spec.resources.requests.storage).toBe(`${resource.configuration.storage.sizesMb[volume] / 1024}Gi`);
      }

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

      // Backups as users see them: the store in the cluster, copied to the control plane by the health rounds.
      const backupsOf = async () => (await api.get(`/v1/resources/${id}/backups`)).body as BackupsView;
      const listed = (reason: string) =>
        eventually(
          async () => (await backupsOf()).backups.find((b) => b.kind === "dump" && b.reason === reason),
          300_000,
          `a ${reason} dump in the listing`,
        );
      // The first backup was part of the create (the deploy waited for its Job).
      expect(await listed("first")).toMatchObject({ verified: true });
      // The daily CronJob: one run of it now, as its schedule would start it.
      await kubectl("-n", namespace, "create", "job", "backup-now", "--from=cronjob/backup");
      await kubectl("-n", namespace, "wait", "--for=condition=complete", "--timeout=300s", "job/backup-now");
      const scheduled = await listed("scheduled");
      expect(scheduled).toMatchObject({ verified: true });
      expect(scheduled.sizeBytes).toBeGreaterThan(0);
      // On demand, through the API.
      expect((await api.post(`/v1/resources/${id}/backups`, {})).status).toBe(202);
      expect(await listed("on-demand")).toMatchObject({ verified: true });
      const listing = await backupsOf();
      expect(listing.problem).toBeNull();
      expect(listing.lastBackupAt).not.toBeNull();
      // The scheduled restore verification restores the newest dump (the copy here) into a scratch container.
      expect(await server.service.restoreVerification.runDue()).toContain(id);
      expect((await backupsOf()).lastVerification).toMatchObject({ ok: true });

      // A new postgres-small on the Docker host from this database's store (its copy there): `sql`'s answer in it.
      const restoredOnDockerHost = async (suffix: string, restoreFrom: { backup: string } | { pointInTime: string }, sql: string) => {
        const copy = await api.post("/v1/resources", {
          template: "postgres-small",
          name: `pg${process.pid}${suffix}`,
          restoreFrom: { resource: id, ...restoreFrom },
        });
        expect(copy.status).toBe(202);
        const copyId = copy.body.resource.id as string;
        created.push(copyId);
        const restored = await waitForStatus(api, copyId, ["ACTIVE", "FAILED"], 600_000);
        expect(restored.lastError ?? null).toBeNull();
        const copyCredentials = (await api.get(`/v1/resources/${copyId}/credentials`)).body.credentials as Record<string, string>;
        return psql(restored.endpoint as Record<string, string>, copyCredentials, sql);
      };

      // WAL archiving, reported as a Docker host's sidecar reports it (the health rounds read the server's archiver).
      // As the server's superuser, in its container: the resource's role is not one.
      const inServer = (...command: string[]) => kubectl("-n", namespace, "exec", "postgres-0", "-c", "postgres", "--", ...command);
      const switchWal = async () => {
        const switchedAt = Math.floor(Date.now() / 1000) * 1000;
        await inServer("psql", "-U", "postgres", "-Atc", "SELECT pg_switch_wal()");
        return switchedAt;
      };
      const archivedSince = (at: number) =>
        eventually(
          async () => {
            const range = (await backupsOf()).restorableRange;
            return range && Date.parse(range.to) >= at ? range : undefined;
          },
          120_000,
          "the restorable range to reach the switched segment",
        );
      // A point in time before a deletion restores on a Docker host, from the copy (base backup + archived WAL).
      await psql(endpoint, credentials, "INSERT INTO accounts VALUES (2, 'grace')");
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const beforeDeletion = await psql(endpoint, credentials, `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await psql(endpoint, credentials, "DELETE FROM accounts WHERE id = 2");
      const range = await archivedSince(await switchWal());
      expect(range.from < beforeDeletion).toBe(true);
      expect(
        await restoredOnDockerHost("p", { pointInTime: beforeDeletion }, "SELECT string_agg(owner, ',' ORDER BY id) FROM accounts"),
      ).toBe("ada,grace");
      // Archiving that fails (the archive made read-only) is the database's backup problem, and DEGRADED, until it works again.
      await inServer("chmod", "500", "/archive");
      await psql(endpoint, credentials, "INSERT INTO accounts VALUES (3, 'lin')");
      await switchWal();
      const failing = await eventually(
        async () => {
          const { problem } = await backupsOf();
          return problem?.includes("WAL archiving") ? problem : undefined;
        },
        120_000,
        "the archiver's failure as the backup problem",
      );
      expect(failing).toMatch(/^WAL archiving: archiving [0-9A-F]{24} failed$/);
      await waitForStatus(api, id, ["DEGRADED"], 60_000);
      await inServer("chmod", "700", "/archive");
      // The archiver tries the segment again within a minute.
      await archivedSince(await switchWal());
      await waitForStatus(api, id, ["ACTIVE"], 120_000);
      expect((await backupsOf()).problem).toBeNull();

      const deleted = await api.delete(`/v1/resources/${id}`);
      expect(deleted.status).toBe(202);
      const operation = await waitForOperation(api, id, deleted.body.operation.id, 300_000);
      expect(operation.status).toBe("SUCCEEDED");
      created.splice(created.indexOf(id), 1);
      expect(await leftInCluster(namespace)).toEqual([]);

      // The store outlived the namespace: the final dump, taken before the destroy, restores the row on a Docker host.
      const after = await backupsOf();
      const final = after.backups.find((b) => b.reason === "final");
      expect(final).toMatchObject({ kind: "dump", verified: true });
      expect(after.keptUntil).not.toBeNull();
      expect(await restoredOnDockerHost("c", { backup: final!.id }, "SELECT owner FROM accounts WHERE id = 1")).toBe("ada");
    },
  );

  describe("ipfs-cluster-small", () => {
    let id: string;
    let namespace: string;
    let suite: { endpoint: Record<string, string>; credentials: Record<string, string> };
    let cluster: ReturnType<typeof clusterClient>;
    const contents = [`k8s ${crypto.randomUUID()}`, `k8s ${crypto.randomUUID()}`];
    const cids: string[] = [];
    /** What the last fetch of each gateway got when it was not the file: said when a wait runs out. */
    const lastMiss = new Map<string, string>();
    const fetchFrom = async (gateway: string, cid: string) => {
      const response = await fetch(`${gateway}/ipfs/${cid}`, { signal: AbortSignal.timeout(20_000) }).catch((error: Error) => {
        lastMiss.set(gateway, `${error.name}: ${error.message}`);
        return undefined;
      });
      if (response && !response.ok) lastMiss.set(gateway, `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      return response?.ok ? response.text() : undefined;
    };
    const pinStatuses = async () =>
      (
        await Promise.all(
          cids.map(async (cid) => {
            const status = JSON.parse(await cluster.api(`/pins/${cid}`)) as PinStatus;
            return `${cid}: ${Object.values(status.peer_map)
              .map((p) => `${p.peername} ${p.status}`)
              .join(", ")}`;
          }),
        ).catch((e: Error) => [e.message])
      ).join("\n");
    const allOnTwoPeers = async () =>
      (await Promise.all(cids.map((cid) => cluster.pinnedPeers(cid)))).every((p) => p.length >= 2) ? true : undefined;

    it(
      "peers on both nodes, files pinned on 2 peers, served by every gateway and the balanced one, ipfs-cluster-ctl agrees",
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
        id = reply.body.resource.id as string;
        created.push(id);
        namespace = hostNameOf(id);
        const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 600_000);
        expect(resource.lastError ?? null).toBeNull();
        expect(resource.status).toBe("ACTIVE");
        const pods = await podsOf(namespace);
        for (const prefix of ["cluster", "ipfs"]) {
          const nodes = new Set(pods.filter((p) => new RegExp(`^${prefix}\\d+-0$`).test(p.metadata.name)).map((p) => p.spec.nodeName));
          expect(nodes.size, `${prefix} pods on both nodes`).toBe(2);
        }
        // The Kubo nodes were peered by the template's task, a Job of the Kubo image.
        const jobs = (await kubectl("-n", namespace, "get", "jobs", "-o", "name")).split("\n");
        expect(jobs.some((j) => j.startsWith("job.batch/peer-kubo-nodes-"))).toBe(true);

        suite = {
          endpoint: resource.endpoint as Record<string, string>,
          credentials: (await api.get(`/v1/resources/${id}/credentials`)).body.credentials,
        };
        cluster = clusterClient(suite);
        await eventually(async () => ((await cluster.peerNames().catch(() => [])).length === 3 ? true : undefined), 120_000, "3 peers");
        for (const content of contents)
          cids.push(await eventually(async () => cluster.add(content).catch(() => undefined), 120_000, "the REST API to take the file"));
        await eventually(allOnTwoPeers, 120_000, "every pin on 2 peers");
        for (const gateway of [suite.endpoint.gateway0!, suite.endpoint.gateway1!, suite.endpoint.gateway2!, suite.endpoint.gateway!])
          for (const [i, cid] of cids.entries())
            expect(await eventually(() => fetchFrom(gateway, cid), 120_000, `${gateway} to serve the file`)).toBe(contents[i]);
        const { hostname, port } = new URL(suite.endpoint.restApi!);
        const { stdout } = await execFileAsync(
          "ipfs-cluster-ctl",
          ["--host", `/ip4/${hostname}/tcp/${port}`, "--force-http", "--enc", "json", "status", cids[0]!],
          // The credentials through the environment, as the template's own scripts pass them.
          { env: { ...process.env, CLUSTER_CREDENTIALS: `${suite.credentials.username}:${suite.credentials.password}` } },
        );
        const status = JSON.parse(stdout) as PinStatus;
        const viaCtl = Object.values(status.peer_map)
          .filter((p) => p.status === "pinned")
          .map((p) => p.peername);
        expect(viaCtl.sort()).toEqual((await cluster.pinnedPeers(cids[0]!)).sort());
      },
    );

    it(
      "node 2 off the network for real: node 1's gateways still serve the pins, the resource goes DEGRADED naming the node and its pods, and ACTIVE when it is back",
      { timeout: 900_000 },
      async () => {
        expect(id, "the cluster of the test before").toBeDefined();
        if (!nodeControl)
          throw new Error("this cluster gives the tests no way to take a node down (PROVISIONER_TEST_KUBERNETES_NODE_CONTROL)");
        const pods = await podsOf(namespace);
        const onNode = (node: string) => pods.filter((p) => p.spec.nodeName === node).map((p) => p.metadata.name);
        const lost = onNode("n2");
        const kept = onNode("n1");
        expect(lost.length).toBeGreaterThan(0);
        // Each Kubo node's gateway is gateway<i>; the balanced gateway is its own pod.
        const gatewaysOnN1 = kept.flatMap((p) => {
          const kubo = /^ipfs(\d+)-0$/.exec(p);
          return kubo ? [suite.endpoint[`gateway${kubo[1]}`]!] : p === "gateway-0" ? [suite.endpoint.gateway!] : [];
        });
        expect(gatewaysOnN1.length).toBeGreaterThan(0);

        await execFileAsync(nodeControl, ["cut", "n2"]);
        try {
          // The probes see the lost parts at once; the node is named once Kubernetes marks it not Ready (20 s here).
          const degraded = await eventually(
            async () => {
              const { body } = await api.get(`/v1/resources/${id}`);
              return body.status === "DEGRADED" && String(body.lastError).includes("node n2: not ready") ? body : undefined;
            },
            240_000,
            "DEGRADED naming node n2",
          );
          for (const pod of lost) expect(degraded.lastError).toContain(pod);
          for (const gateway of gatewaysOnN1)
            for (const [i, cid] of cids.entries())
              expect(await eventually(() => fetchFrom(gateway, cid), 60_000, `${gateway} (node 1) to serve the file`)).toBe(contents[i]);
        } finally {
          await execFileAsync(nodeControl, ["restore", "n2"]);
        }
        const back = await waitForStatus(api, id, ["ACTIVE"], 300_000);
        expect(back.lastError ?? null).toBeNull();
        // Pins whose copies failed while the node was away are tried again each minute (CLUSTER_PINRECOVERINTERVAL), once the
        // Kubo nodes reconnect (their peering backs off while the node is away).
        await eventually(allOnTwoPeers, 300_000, "every pin on 2 peers again").catch(async (error: Error) => {
          throw new Error(`${error.message}\n${await pinStatuses()}\n${await kuboConnections(namespace, 3)}`);
        });
      },
    );

    /** Runs a PATCH of the peer count while sampling every pin each second (watchReplication). */
    const scaleWhileWatching = (peers: number) =>
      watchReplication(cluster, cids, 2, async () => {
        const patched = await api.patch(`/v1/resources/${id}`, { options: { peers } });
        expect(patched.status).toBe(202);
        const operation = await waitForOperation(api, id, patched.body.operation.id, 600_000);
        expect(operation.error ?? null).toBeNull();
        expect(operation.status).toBe("SUCCEEDED");
      });

    it(
      "scales 3 → 4 → 3 peers: every pin on 2 peers throughout, the 4th peer's gateway serves them, it leaves after moving them",
      { timeout: 1_200_000 },
      async () => {
        expect(cids.length, "the pins of the tests before").toBe(2);
        await waitForStatus(api, id, ["ACTIVE"], 120_000);
        // From a whole cluster: what the node loss before left behind is that test's to prove.
        await eventually(allOnTwoPeers, 300_000, "every pin on 2 peers before scaling");
        const growing = await scaleWhileWatching(4);
        expect(growing.violations).toEqual([]);
        expect(growing.samples).toBeGreaterThan(0);
        expect(await cluster.peerNames()).toEqual(["cluster0", "cluster1", "cluster2", "cluster3"]);
        const grown = (await api.get(`/v1/resources/${id}`)).body;
        for (const [i, cid] of cids.entries())
          expect(
            // Generous: a new NodePort and a Kubo node that fetches each block from its peers, on 2 loaded cores.
            await eventually(() => fetchFrom(grown.endpoint.gateway3, cid), 240_000, "the new node's gateway").catch(
              async (error: Error) => {
                const miss = lastMiss.get(grown.endpoint.gateway3) ?? "nothing";
                throw new Error(`${error.message} (its last answer: ${miss})\n${await kuboConnections(namespace, 4)}`);
              },
            ),
          ).toBe(contents[i]);

        const shrinking = await scaleWhileWatching(3);
        expect(shrinking.violations).toEqual([]);
        expect(shrinking.samples).toBeGreaterThan(0);
        // The removal task ran before the 4th node's workloads went; they and their claims are gone.
        const left = await kubectl("-n", namespace, "get", "statefulsets,pvc", "-o", "name");
        expect(left).not.toMatch(/(ipfs3|cluster3)/);
        await eventually(
          async () => ((await cluster.peerNames()).join() === "cluster0,cluster1,cluster2" ? true : undefined),
          120_000,
          "3 peers left",
        );
        await eventually(allOnTwoPeers, 120_000, "every pin on 2 of the remaining peers");
      },
    );
  });

  // The nodes need the newer version's image: the local cluster's containerd can tag the one they have (a cluster of
  // KUBECONFIG cannot be changed so from here: reported as skipped there).
  it.runIf(localClusterDir)(
    "postgres-small: a minor upgrade (PATCH versions) takes a verified before-upgrade backup first, then runs the new image",
    { timeout: 600_000 },
    async () => {
      const image = resolveImages(process.env).postgres;
      const version = `${versionOf(image)!.split(".")[0]}.${Number(versionOf(image)!.split(".")[1] ?? 0) + 1}`;
      const upgraded = imagesWith({ postgres: image }, { postgres: version }).postgres;
      for (const node of ["n1", "n2"])
        await execFileAsync("ctr", [
          "-a",
          path.join(localClusterDir!, node, "containerd.sock"),
          "-n",
          "k8s.io",
          "images",
          "tag",
          "--force",
          image,
          upgraded,
        ]);
      const reply = await api.post("/v1/resources", { template: "postgres-small", name: `up${process.pid}`, target: "kubernetes" });
      expect(reply.status).toBe(202);
      const id = reply.body.resource.id as string;
      created.push(id);
      expect((await waitForStatus(api, id, ["ACTIVE", "FAILED"], 600_000)).status).toBe("ACTIVE");
      const reasons = async () => ((await api.get(`/v1/resources/${id}/backups`)).body as BackupsView).backups.map((b) => b.reason);
      await eventually(async () => ((await reasons()).includes("first") ? true : undefined), 120_000, "the first backup listed");

      const patched = await api.patch(`/v1/resources/${id}`, { versions: { postgres: version } });
      expect(patched.status).toBe(202);
      const operation = await waitForOperation(api, id, patched.body.operation.id, 600_000);
      expect(operation.error ?? null).toBeNull();
      expect(operation.status).toBe("SUCCEEDED");
      const before = await eventually(
        async () => ((await api.get(`/v1/resources/${id}/backups`)).body as BackupsView).backups.find((b) => b.reason === "before-upgrade"),
        120_000,
        "the before-upgrade backup listed",
      );
      expect(before).toMatchObject({ kind: "dump", verified: true });
      const server = await kubectl("-n", hostNameOf(id), "get", "pod", "postgres-0", "-o", "jsonpath={.spec.containers[0].image}");
      expect(server).toBe(upgraded);
    },
  );

  it("a kubeconfig whose cluster does not answer: FAILED with the reason, nothing left", { timeout: 600_000 }, async () => {
    // The real cluster's credentials, pointed at an address nothing answers on.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-unreachable-"));
    const unreachable = path.join(dir, "kubeconfig");
    fs.writeFileSync(unreachable, fs.readFileSync(kubeconfig!, "utf8").replace(/server: .*/, "server: https://127.0.0.1:9"));
    // Both servers' workers take operations from the one queue: only the other one's may run this (it ran on the real cluster).
    await server.service.worker!.stop();
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
      server.service.worker!.start();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
