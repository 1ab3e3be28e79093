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
  };
}

/** Why `target` cannot be used here, or undefined if it can. */
export function unavailableTarget(target: string, cloud: CloudSettings): string | undefined {
  if (target === "docker-host") return undefined;
  const needs: Record<CloudName, string> = {
    hetzner: "HCLOUD_TOKEN",
    digitalocean: "DIGITALOCEAN_TOKEN",
    aws: "AWS_REGION and AWS credentials",
  };
  if (!cloud[target as CloudName]) return `is not configured on this service (it needs ${needs[target as CloudName]})`;
  if (cloud.sshCidrs.length === 0) return "is not configured on this service (it needs PROVISIONER_CLOUD_SSH_CIDRS)";
  return undefined;
}
