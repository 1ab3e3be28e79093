// small-storage, medium-storage, large-storage: one Kubo node with a fixed
// StorageMax, gateway published, RPC API published behind basic auth.
import type { SystemModel } from "../model/system.js";
import { kuboInitFile, kuboInitScript, kuboService } from "./kubo.js";
import { kuboMetricsPath } from "./metrics-proxy.js";
import { sizeNames } from "./sizes.js";
import { httpAddress, optionsObject, publicNetworkOption, type Template, type TemplateContext } from "./template.js";

export interface StorageOptions {
  publicNetwork: boolean;
}

export const kuboApiUser = "provisioner";

function storageTemplate(id: string, storageGb: number): Template<StorageOptions> {
  return {
    id,
    description: `One Kubo node with ${storageGb} GB of storage: public gateway, authenticated RPC API`,
    sizes: sizeNames,
    defaultSize: "small",
    options: optionsObject({ publicNetwork: publicNetworkOption }),
    portNames: () => ["api", "gateway"],
    secrets: () => ({ apiPassword: 24 }),
    build(ctx: TemplateContext<StorageOptions>): SystemModel {
      const node = kuboService({
        image: ctx.images.kubo,
        size: ctx.size,
        storageGb,
        publicNetwork: ctx.options.publicNetwork,
        apiPassword: ctx.secrets.apiPassword,
        volume: "ipfs-data",
      });
      node.ports = [
        { host: ctx.ports.api!, container: 5001, hostIp: ctx.publishIp },
        { host: ctx.ports.gateway!, container: 8080, hostIp: ctx.publishIp },
      ];
      return { project: ctx.project, labels: ctx.labels, services: { ipfs: node }, volumes: ["ipfs-data"], files: { [kuboInitFile]: kuboInitScript } };
    },
    outputs: (ctx) => ({
      endpoint: { api: `http://${ctx.publicHost}:${ctx.ports.api}`, gateway: `http://${ctx.publicHost}:${ctx.ports.gateway}` },
      credentials: { username: kuboApiUser, password: ctx.secrets.apiPassword! },
    }),
    // StorageMax is the template's, whatever the size.
    dataGb: () => storageGb,
    healthProbe: "kubo-rpc",
    // Kubo's API.Authorizations guards /api/v0 only: the RPC port serves its metrics without credentials.
    scrapeTargets(endpoint) {
      const api = httpAddress(endpoint.api);
      return api ? [{ address: api, node: "ipfs", path: kuboMetricsPath }] : [];
    },
  };
}

export const smallStorage = storageTemplate("small-storage", 5);
export const mediumStorage = storageTemplate("medium-storage", 25);
export const largeStorage = storageTemplate("large-storage", 100);
