// Renders a SystemModel as a Compose file (format 2.4: understood by both
// `docker compose` and docker-compose 1.29, with CPU/memory limits and
// depends_on health conditions).
import { Document, Scalar, visit } from "yaml";
import type { Mount, ServiceSpec, SystemModel } from "./system.js";

const filePrefix = "file:";

/** Where the system's files sit next to the Compose file on the host. */
export const filesDir = "files";

/** Label on every container, volume and network of a project: how teardown finds them. */
export const projectLabel = "provisioner.project";

export function labelsOf(model: SystemModel): Record<string, string> {
  return { ...model.labels, [projectLabel]: model.project };
}

/** Processes and threads per container unless a service says otherwise: stops a fork bomb, not Postgres' 100 connections. */
export const defaultPidsLimit = 512;

/** Docker's json-file log driver, rotated: a chatty container cannot fill the host's disk. */
export const logRotation = { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } };

const hostPrefix = "host:";

/** Label carrying a service's beforeDown command (the teardown reads it from the container). */
export const beforeDownLabel = "provisioner.before-down";

function mountSpec(model: SystemModel, mount: Mount): string {
  if (mount.subPath !== undefined)
    throw new Error(`mount of "${mount.source}" at ${mount.target}: Compose cannot mount a folder of a volume`);
  if (mount.source.startsWith(hostPrefix)) {
    const path = mount.source.slice(hostPrefix.length);
    if (!path.startsWith("/") || path.includes(":")) throw new Error(`host folder "${path}" must be an absolute path without ":"`);
    return `${path}:${mount.target}${mount.readOnly ? ":ro" : ""}`;
  }
  const source = mount.source.startsWith(filePrefix) ? `./${filesDir}/${mount.source.slice(filePrefix.length)}` : mount.source;
  if (!mount.source.startsWith(filePrefix) && !model.volumes.includes(mount.source)) {
    throw new Error(`volume "${mount.source}" is mounted but not declared`);
  }
  return `${source}:${mount.target}${mount.readOnly ? ":ro" : ""}`;
}

/** What YAML 1.1 (docker-compose 1.29's PyYAML) reads as a timestamp: such strings are quoted (a restore's point in time). */
const yaml11Timestamp = /^\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)\d\d?:\d\d:\d\d/;

function renderService(model: SystemModel, name: string, spec: ServiceSpec): Record<string, unknown> {
  const service: Record<string, unknown> = {
    image: spec.image,
    container_name: `${model.project}-${name}`,
    hostname: name,
    restart: spec.restart,
    cpus: spec.limits.cpus,
    mem_limit: `${spec.limits.memoryMb}m`,
    labels: { ...labelsOf(model), "provisioner.service": name, ...(spec.beforeDown ? { [beforeDownLabel]: spec.beforeDown } : {}) },
    networks: ["default"],
    // Hardening every container gets: no privilege gain through setuid binaries
    // or file capabilities, no capability beyond the ones the service names,
    // bounded processes, rotated logs.
    security_opt: ["no-new-privileges:true"],
    cap_drop: ["ALL"],
    pids_limit: spec.pidsLimit ?? defaultPidsLimit,
    logging: logRotation,
  };
  if (spec.capabilities?.length) service.cap_add = spec.capabilities;
  if (spec.nofile !== undefined) service.ulimits = { nofile: { soft: spec.nofile, hard: spec.nofile } };
  if (spec.shmMb !== undefined) service.shm_size = `${spec.shmMb}m`;
  if (spec.user) service.user = spec.user;
  if (spec.entrypoint) service.entrypoint = spec.entrypoint;
  if (spec.command) service.command = spec.command;
  if (spec.environment && Object.keys(spec.environment).length) service.environment = spec.environment;
  if (spec.ports?.length) {
    service.ports = spec.ports.map((p) => `${p.hostIp}:${p.host}:${p.container}${p.protocol === "udp" ? "/udp" : ""}`);
  }
  if (spec.mounts?.length) service.volumes = spec.mounts.map((m) => mountSpec(model, m));
  if (spec.healthCheck) {
    const h = spec.healthCheck;
    service.healthcheck = {
      test: h.test,
      interval: `${h.intervalSeconds}s`,
      timeout: `${h.timeoutSeconds}s`,
      retries: h.retries,
      start_period: `${h.startPeriodSeconds}s`,
    };
  }
  if (spec.dependsOn?.length) {
    service.depends_on = Object.fromEntries(
      spec.dependsOn.map((dep) => {
        const target = model.services[dep];
        if (!target) throw new Error(`service "${name}" depends on unknown service "${dep}"`);
        return [dep, { condition: target.healthCheck ? "service_healthy" : "service_started" }];
      }),
    );
  }
  return service;
}

/**
 * Compose substitutes $VARIABLES of the deploying shell in every value; the
 * model's values are literal (a health check's "$POSTGRES_USER" is for the
 * container's shell), so each $ is written as $$.
 */
function literal<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("$", "$$$$") as T;
  if (Array.isArray(value)) return value.map(literal) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v)])) as T;
  return value;
}

export function renderCompose(model: SystemModel): string {
  const document = {
    version: "2.4",
    services: Object.fromEntries(Object.entries(model.services).map(([name, spec]) => [name, literal(renderService(model, name, spec))])),
    // One network per resource: nothing is shared between resources or teams.
    networks: { default: { name: `${model.project}-net`, labels: labelsOf(model) } },
    // Sized volumes are made (and mounted) by the deploy script first: Compose only uses them.
    volumes: Object.fromEntries(
      model.volumes.map((v) => [
        v,
        model.volumeSizesMb
          ? { external: true, name: `${model.project}-${v}` }
          : { name: `${model.project}-${v}`, labels: labelsOf(model) },
      ]),
    ),
  };
  const doc = new Document(document);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && yaml11Timestamp.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
