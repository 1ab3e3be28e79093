// Time to healthy on Kubernetes against the Docker host, same template, same
// run: each template created through the service (its API and worker
// in-process, the real engine) onto this machine's Docker host and onto the
// Kubernetes test cluster, alternating; the create request to ACTIVE (the
// operation's `pulumi up` and the health wait), then its DELETE to done.
// The cluster is the one the bootstrap gives the tests (KUBECONFIG's, else
// the local 2-node one it starts and stops). Everything created is deleted,
// and what would be left (namespace, volumes, containers) is checked: the
// bench fails if anything is. Prints figures; asserts nothing else.
// Run: npm run bench -- kubernetes (opt-in: it costs the cluster's start).
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import os from "node:os";
import { promisify } from "node:util";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { client, waitForOperation, waitForStatus, type Client } from "../test/service-client.js";
import { startTestServer } from "../test/test-server.js";

const execFileAsync = promisify(execFile);
const kubeconfig = process.env.PROVISIONER_TEST_KUBECONFIG;
if (!kubeconfig) throw new Error("no cluster: PROVISIONER_TEST_KUBECONFIG is unset (run `npm run bench -- kubernetes`, which starts one)");
const publicHost = process.env.PROVISIONER_TEST_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1";
const runs = Number(process.env.BENCH_RUNS ?? 3);
// BENCH_TEMPLATES=postgres-small: only those (comma-separated).
const templates = (process.env.BENCH_TEMPLATES ?? "postgres-small,ipfs-cluster-small").split(",");
const targets = ["docker-host", "kubernetes"] as const;
type Target = (typeof targets)[number];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function output(file: string, ...args: string[]): Promise<string> {
  return (await execFileAsync(file, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}
const kubectl = (...args: string[]) => output("kubectl", "--kubeconfig", kubeconfig, ...args);

/** What a resource left behind: its namespace and claimed volumes in the cluster, its containers, volumes and networks in Docker. */
async function leftBehind(resourceId: string): Promise<string[]> {
  const host = hostNameOf(resourceId);
  const left: string[] = [];
  if ((await kubectl("get", "namespaces", "-o", "name")).split("\n").includes(`namespace/${host}`)) left.push(`namespace/${host}`);
  const pvs = JSON.parse(await kubectl("get", "pv", "-o", "json")) as {
    items: { metadata: { name: string }; spec: { claimRef?: { namespace: string } } }[];
  };
  for (const pv of pvs.items) if (pv.spec.claimRef?.namespace === host) left.push(`pv/${pv.metadata.name}`);
  for (const kind of ["container", "volume", "network"]) {
    const listed = await output(
      "docker",
      kind,
      "ls",
      ...(kind === "container" ? ["-a"] : []),
      "--filter",
      `name=${host}`,
      "--format",
      "{{.Names}}",
    );
    for (const name of listed.split("\n").filter(Boolean)) left.push(`docker ${kind} ${name}`);
  }
  return left;
}

const server = await startTestServer({
  PROVISIONER_KUBECONFIG: kubeconfig,
  PROVISIONER_KUBERNETES_PUBLIC_HOST: publicHost,
  // No health rounds: ACTIVE comes from the create operation alone, on both targets.
  HEALTH_CHECK_INTERVAL_SECONDS: "0",
});
const created: string[] = [];
const figures = new Map<string, Record<Target, { toActive: number[]; destroy: number[] }>>();

/** One create to ACTIVE and its DELETE, through the service. */
async function once(api: Client, template: string, target: Target, i: number): Promise<{ toActive: number; destroy: number }> {
  let id = "";
  const toActive = await seconds(async () => {
    const reply = await api.post("/v1/resources", {
      template,
      name: `bench${target === "kubernetes" ? "k" : "d"}${i}`,
      target,
      ...(template.startsWith("ipfs-cluster") && { options: { publicNetwork: false } }),
    });
    if (reply.status !== 202) throw new Error(`${template} on ${target}: ${reply.status} ${JSON.stringify(reply.body)}`);
    id = reply.body.resource.id as string;
    created.push(id);
    const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 600_000);
    if (resource.status !== "ACTIVE") throw new Error(`${template} on ${target}: ${resource.status}: ${resource.lastError}`);
  });
  const destroy = await seconds(async () => {
    const deleted = await api.delete(`/v1/resources/${id}`);
    const operation = await waitForOperation(api, id, deleted.body.operation.id, 600_000);
    if (operation.status !== "SUCCEEDED") throw new Error(`DELETE of ${template} on ${target}: ${operation.status}: ${operation.error}`);
  });
  return { toActive, destroy };
}

const nodes = (await kubectl("get", "nodes", "-o", "name")).trim().split("\n").length;
console.log(
  `runs per figure: ${runs} (median), targets alternating; machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `load ${load()} at the start (shared machine: compare figures of one run); cluster: ${nodes} nodes`,
);
let failed = false;
const { apiKey } = await new TeamService(server.service.db).create(`bench${crypto.randomBytes(3).toString("hex")}`, "PRO");
const api = client(server.base, apiKey);
try {
  for (const template of templates) {
    const perTarget = { "docker-host": { toActive: [], destroy: [] }, kubernetes: { toActive: [], destroy: [] } } as Record<
      Target,
      { toActive: number[]; destroy: number[] }
    >;
    figures.set(template, perTarget);
    for (let i = 0; i < runs; i++) {
      // Alternating, and the first of each pair alternating too: neither target always runs on a warmer machine.
      for (const target of i % 2 === 0 ? targets : [...targets].reverse()) {
        const { toActive, destroy } = await once(api, template, target, i);
        perTarget[target].toActive.push(toActive);
        perTarget[target].destroy.push(destroy);
        console.log(
          `  ${template} on ${target}, run ${i + 1}: ACTIVE after ${toActive.toFixed(1)} s, deleted in ${destroy.toFixed(1)} s (load ${load()})`,
        );
      }
    }
  }
} catch (error) {
  failed = true;
  console.error(`bench failed: ${(error as Error).message}`);
} finally {
  let leftovers = 0;
  for (const id of created) {
    // A run that failed half-way: what it created is deleted too (a deleted resource answers 409, queueing nothing).
    const deleted = await api.delete(`/v1/resources/${id}`).catch(() => undefined);
    if (deleted?.body?.operation) await waitForOperation(api, id, deleted.body.operation.id, 600_000).catch(() => undefined);
    const left = await leftBehind(id).catch((error: Error) => [`(could not check: ${error.message})`]);
    if (left.length) {
      failed = true;
      leftovers++;
      console.error(`left behind by ${id}: ${left.join(", ")}`);
    }
  }
  if (!leftovers)
    console.log(`left behind: nothing (${created.length} resources checked: namespace, volumes, Docker containers, volumes, networks)`);
  await server.close();
}
for (const [template, perTarget] of figures) {
  const docker = perTarget["docker-host"];
  const kube = perTarget.kubernetes;
  if (!docker.toActive.length || !kube.toActive.length) continue;
  const d = median(docker.toActive);
  const k = median(kube.toActive);
  console.log(
    [
      `${template} (create request to ACTIVE through the service, median of ${Math.min(docker.toActive.length, kube.toActive.length)}):`,
      `  Docker host: ${d.toFixed(1)} s   (DELETE ${median(docker.destroy).toFixed(1)} s)`,
      `  Kubernetes:  ${k.toFixed(1)} s   (DELETE ${median(kube.destroy).toFixed(1)} s)   ratio Kubernetes/Docker ${(k / d).toFixed(2)}x`,
    ].join("\n"),
  );
}
console.log(`load ${load()} at the end`);
if (failed) process.exitCode = 1;
