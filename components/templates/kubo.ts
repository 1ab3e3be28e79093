// A Kubo node as a service of a system: shared by the cluster and storage templates.
import type { ServiceSpec } from "../model/system.js";
import type { SizeSpec, TemplateSizes } from "./sizes.js";
import { healthCheck } from "./template.js";

/** Applied by the image on every start (/container-init.d), before the daemon. */
export const kuboInitScript = `#!/bin/sh
# Provisioner settings, applied before every start of the daemon.
set -e
ipfs config Datastore.StorageMax "$PROVISIONER_STORAGE_MAX"
if [ "$PROVISIONER_PUBLIC_NETWORK" = "false" ]; then
  # A private deployment: no public bootstrap peers, routers or resolvers.
  ipfs config --json AutoConf.Enabled false
  ipfs config --json Bootstrap '[]'
  ipfs config --json Routing.DelegatedRouters '[]'
  ipfs config --json Ipns.DelegatedPublishers '[]'
  ipfs config --json DNS.Resolvers '{}'
fi
# The templates connect their nodes themselves (ipfs-cluster.ts, peerKuboNodes):
# mDNS dials, from both sides at once, could leave two nodes connected twice
# with Bitswap working on neither connection.
ipfs config --json Discovery.MDNS.Enabled false
# Clients authenticate at the RPC guard in front of this node (kubo-rpc-guard.ts);
# an API.Authorizations entry set by an earlier version is removed.
ipfs config --json API.Authorizations '{}'
`;

export const kuboInitFile = "kubo-init.sh";

/** The storage templates' node: CPU and memory by size; StorageMax is the template's whatever the size. */
export function storageNodeSizes(storageGb: number): TemplateSizes {
  return {
    small: { cpus: 0.5, memoryMb: 1024, storageGb },
    medium: { cpus: 1, memoryMb: 2048, storageGb },
    large: { cpus: 2, memoryMb: 4096, storageGb },
  };
}

export interface KuboServiceOptions {
  image: string;
  /** Its limits, and StorageMax (storageGb). */
  size: SizeSpec;
  publicNetwork: boolean;
  volume: string;
}

export function kuboService(options: KuboServiceOptions): ServiceSpec {
  const environment: Record<string, string> = {
    PROVISIONER_STORAGE_MAX: `${options.size.storageGb}GB`,
    PROVISIONER_PUBLIC_NETWORK: String(options.publicNetwork),
    // Kubo 0.39 reports anonymous usage to its developers by default: a tenant's node tells no third party anything.
    IPFS_TELEMETRY: "off",
  };
  return {
    image: options.image,
    environment,
    mounts: [
      { source: options.volume, target: "/data/ipfs" },
      { source: `file:${kuboInitFile}`, target: `/container-init.d/010-provisioner.sh`, readOnly: true },
    ],
    // Through the RPC API, so it passes only once the daemon serves it. No
    // credential: anything in a health check's command line shows in the host's `ps`.
    healthCheck: healthCheck(["CMD-SHELL", "ipfs --api=/ip4/127.0.0.1/tcp/5001 id >/dev/null"]),
    limits: { cpus: options.size.cpus, memoryMb: options.size.memoryMb },
    restart: "unless-stopped",
    // Both Kubo images have this user and give it the repository; started as
    // it, their entry point needs no capability (as root it would chown and su-exec).
    user: "ipfs",
    // A Go program: one thread per blocking system call, more than a C server.
    pidsLimit: 1024,
  };
}
