// The Pulumi program of one resource: the same TemplateSystem component
// engineers use with `pulumi up`, on this machine's Docker host.
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ImageSet } from "../components/images.js";
import { TemplateSystem } from "../components/template-system.js";

export interface ResourceSpec {
  team: string;
  name: string;
  template: string;
  size: string;
  options: unknown;
  ports: Record<string, number>;
}

export interface DockerHostSettings {
  projectsDir: string;
  publishIp: string;
  publicHost: string;
  images: ImageSet;
  healthTimeoutSeconds: number;
}

export function resourceProgram(spec: ResourceSpec, host: DockerHostSettings): PulumiFn {
  return () => {
    const system = new TemplateSystem(spec.name, {
      template: spec.template,
      name: spec.name,
      team: spec.team,
      size: spec.size,
      options: spec.options,
      ports: spec.ports,
      target: { projectsDir: host.projectsDir, healthTimeoutSeconds: host.healthTimeoutSeconds },
      images: host.images,
      publishIp: host.publishIp,
      publicHost: host.publicHost,
    });
    return Promise.resolve({ endpoint: system.endpoint, credentials: system.credentials });
  };
}
