// small-storage, medium-storage, large-storage: one Kubo node with a fixed
// StorageMax, gateway published, RPC API published through a guard that
// requires basic auth (kubo-rpc-guard.ts).
import type { SystemModel } from "../model/system.js";
import { kuboInitFile, kuboInitScript, kuboService, storageNodeSizes } from "./kubo.js";
import { rpcGuardFile, rpcGuardScript, rpcGuardService } from "./kubo-rpc-guard.js";
import { kuboMetricsPath } from "./metrics-proxy.js";
import { httpAddress, optionsObject, publicNetworkOption, type Template, type TemplateContext } from "./template.js";

export interface StorageOptions {
  publicNetwork: boolean;
}

export const kuboApiUser = "provisioner";

function storageTemplate(id: string, storageGb: number): Template<StorageOptions> {
  return {
    id,
    description: `One Kubo node with ${storageGb} GB of storage: public gateway, authenticated RPC API`,
    sizes: storageNodeSizes(storageGb),
    defaultSize: "small",
    sizeUnit: "the Kubo node (the RPC guard comes on top); the storage is the template's at every size",
    options: optionsObject({ publicNetwork: publicNetworkOption }),
    portNames: () => ["api", "gateway"],
    secrets: () => ({ apiPassword: 24 }),
    build(ctx: TemplateContext<StorageOptions>): SystemModel {
      const node = kuboService({
        image: ctx.images.kubo,
        size: ctx.size,
        publicNetwork: ctx.options.publicNetwork,
        volume: "ipfs-data",
      });
      node.ports = [{ host: ctx.ports.gateway!, container: 8080, hostIp: ctx.publishIp }];
      const rpc = rpcGuardService({
        image: ctx.images.postgres,
        upstream: "ipfs:5001",
        kuboService: "ipfs",
        username: kuboApiUser,
        password: ctx.secrets.apiPassword!,
        hostPort: ctx.ports.api!,
        publishIp: ctx.publishIp,
      });
      return {
        project: ctx.project,
        labels: ctx.labels,
        services: { ipfs: node, rpc },
        volumes: ["ipfs-data"],
        files: { [kuboInitFile]: kuboInitScript, [rpcGuardFile]: rpcGuardScript },
      };
    },
    outputs: (ctx) => ({
      endpoint: { api: `http://${ctx.publicHost}:${ctx.ports.api}`, gateway: `http://${ctx.publicHost}:${ctx.ports.gateway}` },
      credentials: { username: kuboApiUser, password: ctx.secrets.apiPassword! },
    }),
    // StorageMax is the template's, whatever the size.
    dataGb: (size) => size.storageGb,
    healthProbe: "kubo-rpc",
    // The RPC guard (kubo-rpc-guard.ts) lets the metrics through without credentials.
    scrapeTargets(endpoint) {
      const api = httpAddress(endpoint.api);
      return api ? [{ address: api, node: "ipfs", path: kuboMetricsPath }] : [];
    },
  };
}

export const smallStorage = storageTemplate("small-storage", 5);
export const mediumStorage = storageTemplate("medium-storage", 25);
export const largeStorage = storageTemplate("large-storage", 100);
