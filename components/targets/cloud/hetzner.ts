// Hetzner Cloud: a Debian server of the chosen type, a firewall letting in only
// the planned ports, the per-resource SSH key, and a data volume. The hcloud
// provider comes from the caller (resource option `providers`), with the token
// from the service's configuration.
import type * as hcloudTypes from "@pulumi/hcloud";
import { hcloud } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import type { InboundRule } from "./firewall-plan.js";
import { generateServerKeys, serverAccess, userData, type CloudServer, type CloudServerArgs } from "./server.js";
import type { ServerAccess } from "./server-access.js";

export interface HetznerServerArgs extends CloudServerArgs {
  /** Location, e.g. `fsn1`, `nbg1`, `hel1`, `ash`, `hil`, `sin`. */
  location: string;
  /** Default: debian-12. */
  image?: string;
}

export function hetznerFirewallRules(plan: InboundRule[]): hcloudTypes.types.input.FirewallRule[] {
  return plan.map((rule) => ({
    direction: "in",
    protocol: rule.protocol,
    port: String(rule.port),
    sourceIps: rule.sources,
    description: rule.description,
  }));
}

export class HetznerServer extends pulumi.ComponentResource implements CloudServer {
  readonly publicIp: pulumi.Output<string>;
  readonly access: ServerAccess;

  constructor(name: string, args: HetznerServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("provisioner:hetzner:Server", name, {}, opts);
    const parent = { parent: this };
    const labels = args.labels;
    const keys = generateServerKeys(name, args.resourceName, this);
    const sshKey = new hcloud.SshKey(`${name}-ssh-key`, { name: args.resourceName, publicKey: keys.client.publicKey, labels }, parent);
    const firewall = new hcloud.Firewall(
      `${name}-firewall`,
      { name: args.resourceName, rules: hetznerFirewallRules(args.firewall), labels },
      parent,
    );
    const volume = new hcloud.Volume(
      `${name}-data`,
      { name: `${args.resourceName}-data`, size: args.dataVolumeGb, location: args.location, format: "ext4", labels },
      parent,
    );
    const server = new hcloud.Server(
      `${name}-server`,
      {
        name: args.resourceName,
        serverType: args.serverType,
        image: args.image ?? "debian-12",
        location: args.location,
        sshKeys: [sshKey.id],
        // Attached at create: the server is never reachable without it.
        firewallIds: [firewall.id.apply(Number)],
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
        userData: userData(keys, volume.linuxDevice),
        labels,
      },
      parent,
    );
    new hcloud.VolumeAttachment(
      `${name}-data-attachment`,
      { serverId: server.id.apply(Number), volumeId: volume.id.apply(Number), automount: false },
      parent,
    );

    this.publicIp = server.ipv4Address;
    this.access = serverAccess(this.publicIp, keys);
    this.registerOutputs({ publicIp: this.publicIp });
  }
}
