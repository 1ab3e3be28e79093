// What the three cloud server components share: their arguments, what they
// give back (an address and SSH access), and the generated keys and user data.
import * as pulumi from "@pulumi/pulumi";
import { renderCloudInit } from "./cloud-init.js";
import type { InboundRule } from "./firewall-plan.js";
import type { ServerAccess } from "./server-access.js";
import { generateKeyPair, type GeneratedKeyPair } from "./ssh-key.js";

export interface CloudServerArgs {
  /** Name the cloud shows: the resource's host name (from its id), unique per resource. */
  resourceName: string;
  /** The cloud's server type (see server-types.ts). */
  serverType: string;
  /** Size of the data volume, GB. */
  dataVolumeGb: number;
  /** Inbound rules (see firewall-plan.ts); everything else is refused. */
  firewall: InboundRule[];
  /** Put on every cloud resource: team, resource, template. */
  labels: Record<string, string>;
}

export interface CloudServer {
  publicIp: pulumi.Output<string>;
  access: ServerAccess;
}

export interface ServerKeys {
  /** The deploy user's key pair. */
  client: GeneratedKeyPair;
  /** The server's SSH host key pair. */
  host: GeneratedKeyPair;
}

export function generateServerKeys(name: string, comment: string, parent: pulumi.Resource): ServerKeys {
  return {
    client: generateKeyPair(`${name}-keygen`, comment, { parent }),
    host: generateKeyPair(`${name}-host-keygen`, comment, { parent }),
  };
}

/** The cloud-init user data: secret, since it carries the server's private host key. */
export function userData(keys: ServerKeys, dataDevice: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([keys.client.publicKey, keys.host.privateKey, keys.host.publicKey, dataDevice])
      .apply(([authorizedKey, hostPrivate, hostPublic, device]) =>
        renderCloudInit({ authorizedKey, hostKey: { privateKey: hostPrivate, publicKey: hostPublic }, dataDevice: device }),
      ),
  );
}

/** How the provisioner reaches the server: its address, the generated key, the pinned host key. */
export function serverAccess(publicIp: pulumi.Output<string>, keys: ServerKeys): ServerAccess {
  // The host key's comment is not part of what sshd presents.
  const hostKey = keys.host.publicKey.apply((k) => k.split(" ").slice(0, 2).join(" "));
  return { host: publicIp, privateKey: keys.client.privateKey, hostKey };
}
