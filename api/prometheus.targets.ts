// What Prometheus scrapes of the provisioned systems, as http_sd target
// groups (https://prometheus.io/docs/prometheus/latest/http_sd/). http_sd
// cannot carry credentials, so only endpoints that serve metrics without them
// are listed: Kubo's /debug/metrics/prometheus on the storage templates' RPC
// API port (API.Authorizations guards /api/v0 only) and the cluster's metrics
// proxy. The PostgreSQL templates export no Prometheus metrics (no exporter
// image is part of the catalogue); the health monitor's gauges cover them.
import { kuboMetricsPath } from "../components/templates/metrics-proxy.js";

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface ScrapedResource {
  id: string;
  name: string;
  template: string;
  target: string;
  team: { name: string };
  endpoint: unknown;
}

const storageTemplates = new Set(["small-storage", "medium-storage", "large-storage"]);

/** host:port of an http:// URL, or undefined. */
function address(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" && parsed.port ? parsed.host : undefined;
  } catch {
    return undefined;
  }
}

export function scrapeTargets(resource: ScrapedResource): TargetGroup[] {
  const endpoint = (resource.endpoint ?? {}) as Record<string, unknown>;
  const labels = (node: string, path: string) => ({
    __metrics_path__: path,
    team: resource.team.name,
    resource: resource.name,
    resource_id: resource.id,
    template: resource.template,
    target: resource.target,
    node,
  });
  if (storageTemplates.has(resource.template)) {
    const api = address(endpoint.api);
    return api ? [{ targets: [api], labels: labels("ipfs", kuboMetricsPath) }] : [];
  }
  if (resource.template === "ipfs-cluster-small") {
    // Clusters created before the metrics proxy have no `metrics` endpoint.
    const proxy = address(endpoint.metrics);
    if (!proxy) return [];
    const nodes = Object.keys(endpoint).filter((key) => /^gateway\d+$/.test(key)).map((key) => `ipfs${key.slice("gateway".length)}`).sort();
    return nodes.map((node) => ({ targets: [proxy], labels: labels(node, `/${node}${kuboMetricsPath}`) }));
  }
  return [];
}
