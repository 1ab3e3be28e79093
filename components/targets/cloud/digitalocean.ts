// DigitalOcean: a Debian droplet, a cloud firewall letting in only the planned
// ports (applied through a tag, so it guards the droplet from its first boot),
// the per-resource SSH key, and a data volume. The provider comes from the
// caller (resource option `providers`), with the token from the service's
// configuration.
import type * as digitaloceanTypes from "@pulumi/digitalocean";
import { digitalocean } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import type { InboundRule } from "./firewall-plan.js";
import { generateServerKeys, serverAccess, userData, type CloudServer, type CloudServerArgs } from "./server.js";
import type { ServerAccess } from "./server-access.js";

export interface DigitalOceanServerArgs extends CloudServerArgs {
  /** Region slug, e.g. `fra1`, `ams3`, `nyc3`. */
  region: string;
  /** Default: debian-12-x64. */
  image?: string;
}

/** DigitalOcean tags: letters, digits, `:`, `-`, `_`. */
export function digitalOceanTags(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key.replaceAll(".", "-")}:${value}`);
}

export function digitalOceanInboundRules(plan: InboundRule[]): digitaloceanTypes.types.input.FirewallInboundRule[] {
  return plan.map((rule) => ({ protocol: rule.protocol, portRange: String(rule.port), sourceAddresses: rule.sources }));
}

/** Out: anything (images, packages). A DigitalOcean firewall with no outbound rule lets nothing out. */
export const digitalOceanOutboundRules: digitaloceanTypes.types.input.FirewallOutboundRule[] = [
  { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
  { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
  { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
];

export class DigitalOceanServer extends pulumi.ComponentResource implements CloudServer {
  readonly publicIp: pulumi.Output<string>;
  readonly access: ServerAccess;

  constructor(name: string, args: DigitalOceanServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("provisioner:digitalocean:Server", name, {}, opts);
    const parent = { parent: this };
    const tags = digitalOceanTags(args.labels);
    const keys = generateServerKeys(name, args.resourceName, this);
    const sshKey = new digitalocean.SshKey(`${name}-ssh-key`, { name: args.resourceName, publicKey: keys.client.publicKey }, parent);
    const firewallTag = new digitalocean.Tag(`${name}-firewall-tag`, { name: `provisioner-firewall:${args.resourceName}` }, parent);
    const firewall = new digitalocean.Firewall(
      `${name}-firewall`,
      {
        name: args.resourceName,
        tags: [firewallTag.name],
        inboundRules: digitalOceanInboundRules(args.firewall),
        outboundRules: digitalOceanOutboundRules,
      },
      parent,
    );
    const volumeName = `${args.resourceName}-data`;
    const volume = new digitalocean.Volume(
      `${name}-data`,
      {
        name: volumeName,
        region: args.region,
        size: args.dataVolumeGb,
        initialFilesystemType: "ext4",
        description: `data of ${args.resourceName}`,
        tags,
      },
      parent,
    );
    const droplet = new digitalocean.Droplet(
      `${name}-server`,
      {
        name: args.resourceName,
        image: args.image ?? "debian-12-x64",
        region: args.region,
        size: args.serverType,
        sshKeys: [sshKey.fingerprint],
        volumeIds: [volume.id],
        tags: [...tags, firewallTag.name],
        monitoring: true,
        userData: userData(keys, `/dev/disk/by-id/scsi-0DO_Volume_${volumeName}`),
      },
      // The firewall exists before the droplet boots.
      { parent: this, dependsOn: [firewall] },
    );

    this.publicIp = droplet.ipv4Address;
    this.access = serverAccess(this.publicIp, keys);
    this.registerOutputs({ publicIp: this.publicIp });
  }
}
