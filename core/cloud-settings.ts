// Which cloud targets this service instance offers, from its environment:
// cloud credentials come from the service's configuration, never from a
// request. A cloud without credentials is not offered.

export interface CloudSettings {
  /** Who may SSH to the servers: the service's own address must be inside. */
  sshCidrs: string[];
  hetzner?: { token: string; location: string };
  digitalocean?: { token: string; region: string };
  /** The AWS provider reads its credentials from the standard chain (env, profile, role). */
  aws?: { region: string };
  /** A Kubernetes cluster (PROVISIONER_KUBECONFIG, or the one the service runs in). */
  kubernetes?: KubernetesSettings;
}

export interface KubernetesSettings {
  /** Path of the kubeconfig; undefined: in-cluster (the service account of the pod the service runs in). */
  kubeconfigPath?: string;
  /** Where clients reach published ports: a node's address, or the load balancers' name. */
  publicHost: string;
  storageClass?: string;
  /** The StorageClass holds each volume to its claim's size (PROVISIONER_KUBERNETES_STORAGE_ENFORCED=true). */
  storageEnforced: boolean;
  serviceType: "NodePort" | "LoadBalancer";
  /** Numeric ids of the images' users (postgres, ipfs) when they are not the official images'. */
  userIds: Record<string, number>;
}

function kubernetesSettingsFrom(env: NodeJS.ProcessEnv): KubernetesSettings | undefined {
  const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
  if (!env.PROVISIONER_KUBECONFIG && !inCluster) return undefined;
  const serviceType = env.PROVISIONER_KUBERNETES_SERVICE_TYPE === "LoadBalancer" ? "LoadBalancer" : "NodePort";
  let userIds: Record<string, number> = {};
  try {
    userIds = JSON.parse(env.PROVISIONER_KUBERNETES_USER_IDS ?? "{}") as Record<string, number>;
  } catch {
    throw new Error("PROVISIONER_KUBERNETES_USER_IDS must be a JSON object of user name to numeric id");
  }
  return {
    kubeconfigPath: env.PROVISIONER_KUBECONFIG || undefined,
    publicHost: env.PROVISIONER_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1",
    storageClass: env.PROVISIONER_KUBERNETES_STORAGE_CLASS || undefined,
    storageEnforced: env.PROVISIONER_KUBERNETES_STORAGE_ENFORCED === "true",
    serviceType,
    userIds,
  };
}

export type CloudName = "hetzner" | "digitalocean" | "aws";

export function cloudSettingsFrom(env: NodeJS.ProcessEnv): CloudSettings {
  const sshCidrs = (env.PROVISIONER_CLOUD_SSH_CIDRS ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  const awsCredentials = env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE;
  return {
    sshCidrs,
    ...(env.HCLOUD_TOKEN && { hetzner: { token: env.HCLOUD_TOKEN, location: env.PROVISIONER_HETZNER_LOCATION ?? "fsn1" } }),
    ...(env.DIGITALOCEAN_TOKEN && {
      digitalocean: { token: env.DIGITALOCEAN_TOKEN, region: env.PROVISIONER_DIGITALOCEAN_REGION ?? "fra1" },
    }),
    ...(awsCredentials && env.AWS_REGION && { aws: { region: env.AWS_REGION } }),
    kubernetes: kubernetesSettingsFrom(env),
  };
}

/** Why `target` cannot be used here, or undefined if it can. */
export function unavailableTarget(target: string, cloud: CloudSettings): string | undefined {
  if (target === "docker-host") return undefined;
  if (target === "kubernetes")
    return cloud.kubernetes ? undefined : "is not configured on this service (it needs PROVISIONER_KUBECONFIG, or to run in a cluster)";
  const needs: Record<CloudName, string> = {
    hetzner: "HCLOUD_TOKEN",
    digitalocean: "DIGITALOCEAN_TOKEN",
    aws: "AWS_REGION and AWS credentials",
  };
  if (!cloud[target as CloudName]) return `is not configured on this service (it needs ${needs[target as CloudName]})`;
  if (cloud.sshCidrs.length === 0) return "is not configured on this service (it needs PROVISIONER_CLOUD_SSH_CIDRS)";
  return undefined;
}
