// What Prometheus scrapes of the provisioned systems, as http_sd target
// groups (https://prometheus.io/docs/prometheus/latest/http_sd/). http_sd
// cannot carry credentials, so only endpoints that serve metrics without them
// are listed; each template says which (Template.scrapeTargets).
import { templates } from "../components/templates/index.js";

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
  // Which addresses serve metrics is the template's to say.
  const template = templates[resource.template];
  return (template?.scrapeTargets(endpoint) ?? []).map((t) => ({ targets: [t.address], labels: labels(t.node, t.path) }));
}
