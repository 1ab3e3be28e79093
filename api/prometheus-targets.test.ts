import { describe, expect, it } from "vitest";
import { scrapeTargets } from "./prometheus-targets.js";

const resource = (template: string, endpoint: unknown) => ({
  id: "r-1",
  name: "files",
  template,
  target: "docker-host",
  team: { name: "web" },
  endpoint,
});
const common = { team: "web", resource: "files", resource_id: "r-1", target: "docker-host" };

describe("scrapeTargets", () => {
  it("scrapes a storage node's metrics on its RPC API port", () => {
    expect(scrapeTargets(resource("small-storage", { api: "http://127.0.0.1:19010", gateway: "http://127.0.0.1:19011" }))).toEqual([
      {
        targets: ["127.0.0.1:19010"],
        labels: { ...common, template: "small-storage", node: "ipfs", __metrics_path__: "/debug/metrics/prometheus" },
      },
    ]);
  });

  it("scrapes every Kubo node of a cluster through its metrics proxy, one target group per node", () => {
    const endpoint = {
      restApi: "http://h:1",
      pinningServiceApi: "http://h:2",
      gateway0: "http://h:3",
      gateway1: "http://h:4",
      metrics: "http://h:5",
    };
    expect(scrapeTargets(resource("ipfs-cluster-small", endpoint))).toEqual(
      ["ipfs0", "ipfs1"].map((node) => ({
        targets: ["h:5"],
        labels: { ...common, template: "ipfs-cluster-small", node, __metrics_path__: `/${node}/debug/metrics/prometheus` },
      })),
    );
  });

  it.each([
    ["postgres-small", { host: "h", port: "5", url: "postgresql://h:5/db" }],
    ["ipfs-cluster-small", { restApi: "http://h:1", gateway0: "http://h:3" }],
    ["small-storage", null],
  ])("lists nothing for %s with endpoint %j (no metrics without credentials)", (template, endpoint) => {
    expect(scrapeTargets(resource(template, endpoint))).toEqual([]);
  });
});
