// Ready-to-copy commands per client, from a resource's endpoint and (once
// revealed) its credentials. Until then the commands carry placeholders.

export interface Command {
  label: string;
  command: string;
}

/** A URL's host and port as a multiaddr, for ipfs-cluster-ctl and ipfs. */
function multiaddr(url: string): string {
  const { hostname, port } = new URL(url);
  const proto = /^\d+\.\d+\.\d+\.\d+$/.test(hostname) ? "ip4" : hostname.includes(":") ? "ip6" : "dns4";
  return `/${proto}/${hostname.replace(/^\[|\]$/g, "")}/tcp/${port || "80"}`;
}

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function connectCommands(template: string, endpoint: Record<string, string>, credentials?: Record<string, string>): Command[] {
  const user = credentials?.username ?? "<username>";
  const password = credentials?.password ?? "<password>";
  if (template.startsWith("postgres")) {
    const url = credentials?.connectionString ?? `postgresql://${user}:${password}@${endpoint.host}:${endpoint.port}/${endpoint.database}`;
    return [
      { label: "psql", command: `psql ${quote(url)}` },
      { label: "Connection URL", command: url },
    ];
  }
  if (template === "ipfs-cluster-small" && endpoint.restApi && endpoint.pinningServiceApi) {
    return [
      {
        label: "ipfs-cluster-ctl",
        command: `ipfs-cluster-ctl --host ${multiaddr(endpoint.restApi)} --basic-auth ${quote(`${user}:${password}`)} peers ls`,
      },
      {
        label: "ipfs pin remote service add",
        command: `TOKEN=$(curl -s -u ${quote(`${user}:${password}`)} -X POST ${endpoint.pinningServiceApi}/token | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')\nipfs pin remote service add provisioner ${endpoint.pinningServiceApi} "$TOKEN"`,
      },
      { label: "REST API (curl)", command: `curl -u ${quote(`${user}:${password}`)} ${endpoint.restApi}/id` },
    ];
  }
  if (endpoint.api) {
    return [
      { label: "ipfs (Kubo RPC)", command: `ipfs --api ${multiaddr(endpoint.api)} --api-auth ${quote(`basic:${user}:${password}`)} id` },
      { label: "curl", command: `curl -u ${quote(`${user}:${password}`)} -X POST ${endpoint.api}/api/v0/id` },
      ...(endpoint.gateway ? [{ label: "Gateway", command: `curl ${endpoint.gateway}/ipfs/<cid>` }] : []),
    ];
  }
  return [];
}
