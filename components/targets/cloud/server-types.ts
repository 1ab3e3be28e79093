// How big a cloud server a resource needs, and which of each cloud's server
// types that is. Pure data and arithmetic; the catalogues are the only place
// these type names live (a target's `serverType` overrides the choice).
import { resolveImages } from "../../images.js";
import { buildSystem, sizeOf, type PreparedRequest } from "../../templates/index.js";
import { TemplateInputError } from "../../templates/request.js";

export type CloudName = "hetzner" | "digitalocean" | "aws";

export interface ServerType {
  name: string;
  vcpus: number;
  memoryMb: number;
}

/**
 * Smallest first. x86 types available in every region of their cloud:
 * shared vCPUs, then dedicated ones for what the shared line cannot hold
 * (postgres-medium's primary and replica at 16 GB each).
 */
export const serverTypes: Record<CloudName, readonly ServerType[]> = {
  hetzner: [
    { name: "cx23", vcpus: 2, memoryMb: 4096 },
    { name: "cx33", vcpus: 4, memoryMb: 8192 },
    { name: "cx43", vcpus: 8, memoryMb: 16384 },
    { name: "cx53", vcpus: 16, memoryMb: 32768 },
    { name: "ccx43", vcpus: 16, memoryMb: 65536 },
    { name: "ccx53", vcpus: 32, memoryMb: 131072 },
  ],
  digitalocean: [
    { name: "s-1vcpu-2gb", vcpus: 1, memoryMb: 2048 },
    { name: "s-2vcpu-4gb", vcpus: 2, memoryMb: 4096 },
    { name: "s-4vcpu-8gb", vcpus: 4, memoryMb: 8192 },
    { name: "s-8vcpu-16gb", vcpus: 8, memoryMb: 16384 },
    { name: "g-8vcpu-32gb", vcpus: 8, memoryMb: 32768 },
    { name: "g-16vcpu-64gb", vcpus: 16, memoryMb: 65536 },
    { name: "g-32vcpu-128gb", vcpus: 32, memoryMb: 131072 },
  ],
  aws: [
    { name: "t3.small", vcpus: 2, memoryMb: 2048 },
    { name: "t3.medium", vcpus: 2, memoryMb: 4096 },
    { name: "t3.large", vcpus: 2, memoryMb: 8192 },
    { name: "t3.xlarge", vcpus: 4, memoryMb: 16384 },
    { name: "t3.2xlarge", vcpus: 8, memoryMb: 32768 },
    { name: "m6i.4xlarge", vcpus: 16, memoryMb: 65536 },
    { name: "m6i.8xlarge", vcpus: 32, memoryMb: 131072 },
  ],
};

export interface CapacityNeeds {
  vcpus: number;
  memoryMb: number;
}

/** The operating system, Docker and page cache, beside the containers' limits. */
export const hostMemoryMb = 1024;

/**
 * What the resource's containers may use: the sum of their memory limits
 * (memory is not overcommitted) and half the sum of their CPU limits (they
 * rarely peak together), at least the largest single limit. Helpers marked
 * hostOverhead fit in the host's reserve.
 */
export function capacityNeeds(prepared: PreparedRequest): CapacityNeeds {
  // Limits do not depend on secrets, ports or images: placeholders build the same services.
  const secrets = Object.fromEntries(Object.entries(prepared.secretSizes).map(([name, bytes]) => [name, "00".repeat(bytes)]));
  const ports = Object.fromEntries(prepared.portNames.map((name, i) => [name, 20000 + i]));
  const { model } = buildSystem(prepared, { ports, secrets, images: resolveImages({}), publishIp: "0.0.0.0", publicHost: "placeholder" });
  const limits = Object.values(model.services)
    .filter((s) => !s.hostOverhead)
    .map((s) => s.limits);
  const cpus = limits.reduce((sum, l) => sum + l.cpus, 0);
  return {
    vcpus: Math.ceil(Math.max(cpus / 2, ...limits.map((l) => l.cpus))),
    memoryMb: limits.reduce((sum, l) => sum + l.memoryMb, 0) + hostMemoryMb,
  };
}

/** The smallest type of the catalogue that covers the needs. */
export function chooseServerType(cloud: CloudName, needs: CapacityNeeds): string {
  const type = serverTypes[cloud].find((t) => t.vcpus >= needs.vcpus && t.memoryMb >= needs.memoryMb);
  if (!type) {
    throw new TemplateInputError(
      "size",
      `no ${cloud} server type has ${needs.vcpus} vCPUs and ${needs.memoryMb} MB; choose a smaller size or fewer peers`,
    );
  }
  return type.name;
}

/** Room for Docker's images and logs on the data volume. */
const dockerGb = 10;

/** The data volume (Docker's data root: images and the system's volumes), in GB: what the template says its volumes need. */
export function dataVolumeGb(prepared: PreparedRequest): number {
  return dockerGb + prepared.template.dataGb(sizeOf(prepared.template, prepared.size), prepared.options);
}
