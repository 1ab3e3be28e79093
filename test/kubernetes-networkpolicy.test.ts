// NetworkPolicy enforced on a real cluster: the objects the Kubernetes target
// renders for a resource's namespace (same-namespace traffic; from outside it,
// only the published ports) keep two resources apart. The local test cluster
// enforces them with kube-router's firewall (tools/kubernetes/firewall.sh,
// started with the cluster); a cluster of KUBECONFIG must have a network
// plugin that does. No cluster is a failure, never a skip: `npm test`
// provides one.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveImages } from "../components/images.js";
import type { SystemModel } from "../components/model/system.js";
import { claimsGb, renderManifests, secretKeys, withBackupStoreVolume, type Manifest } from "../components/targets/kubernetes-manifests.js";
import { buildSystem, prepareRequest } from "../components/templates/index.js";
import { volumeSizesGb } from "../components/templates/volume-sizes.js";
import { eventually } from "./docker.js";

const execFileAsync = promisify(execFile);
const kubeconfig = process.env.PROVISIONER_TEST_KUBECONFIG;
const publicHost = process.env.PROVISIONER_TEST_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1";
/** `<script> start|stop`: the local cluster's NetworkPolicy enforcement (tools/kubernetes/firewall.sh). */
const firewall = process.env.PROVISIONER_TEST_KUBERNETES_FIREWALL;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", kubeconfig!, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The image every node has (imported by the bootstrap): busybox's httpd serves, its nc asks. */
const image = "localhost/busybox:1";
const publishedPort = 8080;
/** A port the service listens on but does not publish: its namespace's own (a peer port, a database's admin port). */
const privatePort = 9090;

/**
 * A resource of one service that serves on a published and a private port,
 * rendered by the target's own renderer: its NetworkPolicies are the ones a
 * template's resource gets.
 */
function resource(project: string, nodePort: number): Manifest[] {
  const model: SystemModel = {
    project,
    labels: { "provisioner.test": "networkpolicy" },
    services: {
      web: {
        image,
        entrypoint: ["/bin/sh", "-c"],
        command: [
          `mkdir -p /www && echo ${project} > /www/index.html && httpd -p ${privatePort} -h /www && exec httpd -f -p ${publishedPort} -h /www`,
        ],
        ports: [{ host: nodePort, container: publishedPort, hostIp: "0.0.0.0" }],
        limits: { cpus: 0.1, memoryMb: 32 },
        restart: "unless-stopped",
      },
    },
    volumes: [],
    files: {},
  };
  return renderManifests(model, { claimsGb: {}, serviceType: "NodePort", userIds: {}, secretKeys: [] });
}

/**
 * A postgres-small resource as the target renders it (the real template, the images the nodes have): its server
 * is reached through its pooler, the one published port; the server's own 5432 is the namespace's.
 */
function postgresSmall(resourceId: string, nodePort: number): { namespace: string; manifests: Manifest[] } {
  const prepared = prepareRequest({ template: "postgres-small", name: "db", team: "netpol", resourceId });
  const secrets = (digit: string) => Object.fromEntries(Object.entries(prepared.secretSizes).map(([s, n]) => [s, digit.repeat(2 * n)]));
  const inputs = (secret: string) => ({
    ports: { pgbouncer: nodePort },
    secrets: secrets(secret),
    images: resolveImages(process.env),
    publishIp: "0.0.0.0",
    publicHost,
  });
  const model = buildSystem(prepared, inputs("a")).model;
  const other = buildSystem(prepared, inputs("b")).model;
  const userIds = JSON.parse(process.env.PROVISIONER_KUBERNETES_USER_IDS ?? "{}") as Record<string, number>;
  const manifests = renderManifests(model, {
    claimsGb: claimsGb(volumeSizesGb(prepared, withBackupStoreVolume(model).volumes)),
    serviceType: "NodePort",
    userIds,
    secretKeys: secretKeys(model, other),
  });
  return { namespace: model.project, manifests };
}

async function apply(manifests: Manifest[]): Promise<void> {
  // kubectl reads the manifests from a file: JSON is YAML. `after` is the renderer's own field, not Kubernetes'.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-netpol-"));
  const file = path.join(dir, "manifests.json");
  fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests.map(({ after: _after, ...m }) => m) }));
  try {
    await kubectl("apply", "-f", file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const podIp = async (namespace: string, pod: string) =>
  (await kubectl("-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.podIP}")).trim();

/**
 * What an HTTP GET from a pod gets from ip:port: the page, or "failed: ..." when no answer came (a closed port
 * times out or is refused). busybox's nc asks (its wget, linked statically against glibc, crashes).
 */
async function fetchFrom(namespace: string, pod: string, ip: string, port: number): Promise<string> {
  try {
    const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`;
    const response = await kubectl("-n", namespace, "exec", pod, "--", "sh", "-c", request);
    const status = response.split("\n")[0]!;
    if (!/^HTTP\/1\.[01] 200/.test(status)) return `failed: no answer (${status.trim() || "nothing"})`;
    return response.trim().split("\n").at(-1)!.trim();
  } catch (error) {
    return `failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
}

/** What a client on the host (outside the cluster, where users are) gets from the address. */
async function fetchFromHost(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return (await response.text()).trim();
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}

describe("NetworkPolicy on a real 2-node cluster: a resource's namespace is closed but for its published ports", () => {
  const suffix = crypto.randomBytes(4).toString("hex");
  const a = `rnetpola${suffix}`;
  const b = `rnetpolb${suffix}`;
  // Node ports above the service's own range (19000-29000): the test never takes one a resource was given.
  const nodePortB = 29001 + crypto.randomInt(3000);
  const nodePortA = nodePortB + 1;
  const nodePortPg = nodePortB + 2;
  const pg = postgresSmall(crypto.randomUUID(), nodePortPg);

  beforeAll(async () => {
    if (!kubeconfig) throw new Error("no cluster: PROVISIONER_TEST_KUBECONFIG is unset (run through `npm test`, which starts one)");
    // On already when the bootstrap started the cluster; a cluster it found running may predate that.
    if (firewall) await execFileAsync(firewall, ["start"]);
    await apply([...resource(a, nodePortA), ...resource(b, nodePortB), ...pg.manifests]);
    // A client in A's namespace, as any pod of that resource would be.
    await kubectl(
      "-n",
      a,
      "run",
      "client",
      `--image=${image}`,
      "--image-pull-policy=IfNotPresent",
      "--restart=Never",
      "--labels=provisioner.test=client",
      "--",
      "sleep",
      "3600",
    );
    for (const ns of [a, b]) await kubectl("-n", ns, "rollout", "status", "statefulset/web", "--timeout=180s");
    await kubectl("-n", a, "wait", "--for=condition=Ready", "pod/client", "--timeout=180s");
    for (const sts of ["postgres", "pgbouncer"])
      await kubectl("-n", pg.namespace, "rollout", "status", `statefulset/${sts}`, "--timeout=240s");
  }, 420_000);

  afterAll(async () => {
    if (kubeconfig)
      await kubectl("delete", "namespace", a, b, pg.namespace, "--ignore-not-found", "--wait=true", "--timeout=120s").catch(
        () => undefined,
      );
  }, 180_000);

  it("renders the policies the test relies on", () => {
    const policies = resource(b, nodePortB).filter((m) => m.kind === "NetworkPolicy");
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(["published-web", "same-namespace-only"]);
  });

  it(
    "same namespace: every port; another namespace: only the published port; outside: the NodePort, never the private port",
    { timeout: 180_000 },
    async () => {
      const [ipA, ipB] = [await podIp(a, "web-0"), await podIp(b, "web-0")];
      // Policies apply a moment after a pod starts (the enforcer watches for it): wait for the state they give.
      await eventually(
        async () => ((await fetchFrom(a, "client", ipB, privatePort)).startsWith("failed") ? true : undefined),
        60_000,
        `B's private port closed to A's pods`,
      );
      expect(await fetchFrom(a, "client", ipA, privatePort)).toBe(a);
      expect(await fetchFrom(a, "client", ipA, publishedPort)).toBe(a);
      expect(await fetchFrom(a, "client", ipB, publishedPort)).toBe(b);
      expect(await fetchFrom(a, "client", ipB, privatePort)).toMatch(/^failed/);
      expect(await fetchFromHost(`http://${publicHost}:${nodePortB}/`)).toBe(b);
      expect(await fetchFromHost(`http://${ipB}:${privatePort}/`)).toMatch(/^failed/);

      // The policies, and nothing else, keep it closed: without them the same port answers.
      await kubectl("-n", b, "delete", "networkpolicy", "--all");
      await eventually(
        async () => ((await fetchFrom(a, "client", ipB, privatePort)) === b ? true : undefined),
        60_000,
        `B's private port open once B's policies are gone`,
      );
    },
  );

  it(
    "postgres-small: its server's 5432 is closed to another resource's pods, its pooler's (published) open",
    { timeout: 120_000 },
    async () => {
      const [server, pooler] = [await podIp(pg.namespace, "postgres-0"), await podIp(pg.namespace, "pgbouncer-0")];
      /**
       * Whether Postgres' protocol answers at ip:5432 from A's client pod: an SSLRequest gets one byte, "S" or "N",
       * from a server or a pooler; nothing when the port is closed.
       */
      const connects = async (ip: string) => {
        const request = `printf '\\000\\000\\000\\010\\004\\322\\026\\057' | nc -w 3 ${ip} 5432`;
        const answer = await kubectl("-n", a, "exec", "client", "--", "sh", "-c", request).catch(() => "");
        return answer === "S" || answer === "N";
      };
      await eventually(async () => ((await connects(server)) ? undefined : true), 60_000, "the server's 5432 closed to A's pods");
      expect(await connects(pooler)).toBe(true);
      expect(await connects(server)).toBe(false);
    },
  );
});
