// A Kubo node as a service of a system: shared by the cluster and storage templates.
import type { ServiceSpec } from "../model/system.js";
import type { SizeSpec } from "./sizes.js";
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
if [ -n "\${PROVISIONER_API_PASSWORD:-}" ]; then
  ipfs config --json API.Authorizations "{\\"provisioner\\":{\\"AuthSecret\\":\\"basic:provisioner:$PROVISIONER_API_PASSWORD\\",\\"AllowedPaths\\":[\\"/api/v0\\"]}}"
fi
`;

export const kuboInitFile = "kubo-init.sh";

export interface KuboServiceOptions {
  image: string;
  size: SizeSpec;
  storageGb: number;
  publicNetwork: boolean;
  /** Set to require HTTP basic auth (user "provisioner") on the RPC API. */
  apiPassword?: string;
  volume: string;
}

export function kuboService(options: KuboServiceOptions): ServiceSpec {
  const environment: Record<string, string> = {
    PROVISIONER_STORAGE_MAX: `${options.storageGb}GB`,
    PROVISIONER_PUBLIC_NETWORK: String(options.publicNetwork),
  };
  if (options.apiPassword) environment.PROVISIONER_API_PASSWORD = options.apiPassword;
  const auth = options.apiPassword ? ' --api-auth "basic:provisioner:$PROVISIONER_API_PASSWORD"' : "";
  return {
    image: options.image,
    environment,
    mounts: [
      { source: options.volume, target: "/data/ipfs" },
      { source: `file:${kuboInitFile}`, target: `/container-init.d/010-provisioner.sh`, readOnly: true },
    ],
    // Through the RPC API, so it passes only once the daemon serves it.
    healthCheck: healthCheck(["CMD-SHELL", `ipfs --api=/ip4/127.0.0.1/tcp/5001${auth} id >/dev/null`]),
    limits: { cpus: options.size.cpus, memoryMb: options.size.memoryMb },
    restart: "unless-stopped",
  };
}
