// Where a Kubernetes resource's pods run, for the health monitor: a pod on a
// node that is not Ready is lost with it (its containers may still run, but
// nothing reaches them), and the monitor names the node and those pods. The
// probes from outside (health-probes.ts) say which services fail; this says
// why. A few GETs of the Kubernetes API with the service's kubeconfig (or the
// pod's service account): no client library on the API's path.
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { parse } from "yaml";
import type { KubernetesSettings } from "../core/cloud-settings.js";
import type { Failure } from "./health-probes.js";

interface Access {
  server: URL;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure: boolean;
}

interface KubeconfigFile {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: {
    name: string;
    cluster: {
      server: string;
      "certificate-authority"?: string;
      "certificate-authority-data"?: string;
      "insecure-skip-tls-verify"?: boolean;
    };
  }[];
  users?: {
    name: string;
    user: {
      "client-certificate"?: string;
      "client-certificate-data"?: string;
      "client-key"?: string;
      "client-key-data"?: string;
      token?: string;
    };
  }[];
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The cluster's address and credentials: the kubeconfig's current context, else the pod's service account. */
export function kubernetesAccess(settings: KubernetesSettings, env: NodeJS.ProcessEnv = process.env): Access {
  if (!settings.kubeconfigPath) {
    return {
      server: new URL(`https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT}`),
      ca: fs.readFileSync(path.join(serviceAccountDir, "ca.crt")),
      token: fs.readFileSync(path.join(serviceAccountDir, "token"), "utf8").trim(),
      insecure: false,
    };
  }
  const file = parse(fs.readFileSync(settings.kubeconfigPath, "utf8")) as KubeconfigFile;
  const context = file.contexts?.find((c) => c.name === file["current-context"])?.context ?? file.contexts?.[0]?.context;
  const cluster = file.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = file.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster) throw new Error("the kubeconfig names no cluster for its current context");
  // Relative file names are relative to the kubeconfig's folder, as kubectl reads them.
  const read = (file?: string, data?: string) =>
    data ? Buffer.from(data, "base64") : file ? fs.readFileSync(path.resolve(path.dirname(settings.kubeconfigPath!), file)) : undefined;
  return {
    server: new URL(cluster.server),
    ca: read(cluster["certificate-authority"], cluster["certificate-authority-data"]),
    cert: read(user["client-certificate"], user["client-certificate-data"]),
    key: read(user["client-key"], user["client-key-data"]),
    token: user.token,
    insecure: cluster["insecure-skip-tls-verify"] === true,
  };
}

function get<T>(access: Access, apiPath: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      new URL(apiPath, access.server),
      {
        method: "GET",
        ca: access.ca,
        cert: access.cert,
        key: access.key,
        rejectUnauthorized: !access.insecure,
        headers: { accept: "application/json", ...(access.token && { authorization: `Bearer ${access.token}` }) },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode !== 200) reject(new Error(`GET ${apiPath}: ${response.statusCode}`));
          else resolve(JSON.parse(body) as T);
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`GET ${apiPath}: no answer within ${timeoutMs / 1000} s`)));
    request.on("error", reject);
    request.end();
  });
}

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status?: { phase?: string } }[];
}
interface NodeObject {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

/**
 * One failure per node of the namespace's pods that is not Ready, naming
 * the pods lost with it: `node n2: not ready (NodeStatusUnknown): its pods
 * cluster1-0, ipfs1-0 are unreachable`. Nodes it may not read: no failure.
 */
export async function lostWithTheirNodes(access: Access, namespace: string, timeoutMs: number): Promise<Failure[]> {
  const pods = await get<PodList>(access, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, timeoutMs);
  const byNode = new Map<string, string[]>();
  // A finished job's pod (a backup, a task) is not lost with its node.
  for (const pod of pods.items)
    if (pod.spec.nodeName && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed")
      byNode.set(pod.spec.nodeName, [...(byNode.get(pod.spec.nodeName) ?? []), pod.metadata.name]);
  const failures: Failure[] = [];
  for (const [node, names] of [...byNode.entries()].sort()) {
    // A service account that may not read nodes (they are cluster-wide) learns nothing here.
    const object = await get<NodeObject>(access, `/api/v1/nodes/${encodeURIComponent(node)}`, timeoutMs).catch(() => undefined);
    if (!object) continue;
    const ready = object.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status === "True") continue;
    failures.push({
      component: `node ${node}`,
      message: `not ready${ready?.reason ? ` (${ready.reason})` : ""}: its pods ${names.sort().join(", ")} are unreachable`,
    });
  }
  return failures;
}
