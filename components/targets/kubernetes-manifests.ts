// A template's system as Kubernetes objects: pure data, no @pulumi import, so
// its content is tested without a cluster and the Pulumi component
// (kubernetes.ts) only creates what this returns.
//
// One namespace per resource (its host name, from the resource id). Services
// that share a named volume share a pod (a ReadWriteOnce claim mounts on one
// node), every other service gets its own; each pod is a StatefulSet of one
// with a claim per named volume. Every Compose service name is a headless
// Service selecting its pod, so the names the services use for each other
// resolve as on the Docker host; what the template publishes is a NodePort
// (or LoadBalancer) Service on the allocated port.
import crypto from "node:crypto";
import {
  backupStoreReadPath,
  backupStoreVolume,
  type HealthCheck,
  type Mount,
  type ServiceSpec,
  type SystemModel,
} from "../model/system.js";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /**
   * Not sent to the cluster: the StatefulSets (by name) this one is created
   * after, once they are ready: the model's dependsOn, as Compose waits for a
   * dependency to be healthy. It also keeps copies that must be apart from
   * being scheduled at once (two pods placed together race for the same node,
   * and a claim bound on the loser's node pins it there).
   */
  after?: string[];
  [field: string]: unknown;
}

export interface KubernetesRenderOptions {
  /** GiB each named volume's claim asks for (claimsGb()): its size is the resource's storage quota on Kubernetes. */
  claimsGb: Record<string, number>;
  /** StorageClass of the claims; undefined: the cluster's default. */
  storageClass?: string;
  /** How published ports are reached: a port on every node, or a load balancer. */
  serviceType: "NodePort" | "LoadBalancer";
  /**
   * Numeric ids of the users the services name (Kubernetes runs a container
   * as a uid, not a name): they depend on the images.
   */
  userIds: Record<string, number>;
  /** What goes into the Secret rather than in the clear: secretKeys() of the system. */
  secretKeys: string[];
}

/** Requests are this fraction of the limits, so a 2-core node can schedule a system whose limits add up to more. */
export const requestFraction = 0.25;

/**
 * The claim of each named volume: its size from volumeSizesGb() (the one
 * place storage quotas, cloud sizing and this target read volume sizes from:
 * the template's own sizes), in whole GiB, at least 1.
 */
export function claimsGb(sizesGb: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sizesGb).map(([volume, gb]) => [volume, Math.max(1, Math.ceil(gb))]));
}

/**
 * A cluster has no host folders: the resource's backup store (a folder of the
 * Docker host, `host:<backups>/<project>[/<sub>]`) becomes a claim of the
 * resource's own, backupStoreVolume, with each folder a subPath of it. A
 * restore from another resource's store (the only other host folder a
 * template mounts) is refused here too (the API refuses it first).
 *
 * The services the scheduled backup depends on (the database server) mount
 * the whole store read-only at backupStoreReadPath: a pod that always runs
 * holds the claim, so the control plane copies the store out through it (the
 * store outlives the namespace there: automation/kubernetes-backups.ts) and
 * the backup Jobs run on its node.
 */
export function withBackupStoreVolume(model: SystemModel): SystemModel {
  let used = false;
  const remap = (m: Mount): Mount => {
    if (!m.source.startsWith("host:")) return m;
    const match = m.source.slice("host:".length).match(new RegExp(`/${model.project}(?:/(.+))?$`));
    if (!match)
      throw new Error(`kubernetes target: a host folder (${m.target}) is not this resource's backup store: not offered on Kubernetes`);
    used = true;
    return { source: backupStoreVolume, target: m.target, ...(m.readOnly && { readOnly: true }), ...(match[1] && { subPath: match[1] }) };
  };
  const storeReaders = new Set(
    Object.values(model.services).flatMap((spec) =>
      spec.schedule && spec.mounts?.some((m) => m.source.startsWith("host:")) ? (spec.dependsOn ?? []) : [],
    ),
  );
  const reader: Mount = { source: backupStoreVolume, target: backupStoreReadPath, readOnly: true };
  const services = Object.fromEntries(
    Object.entries(model.services).map(([name, spec]) => {
      const mounts = [...(spec.mounts ?? []).map(remap), ...(storeReaders.has(name) ? [reader] : [])];
      return [name, mounts.length ? { ...spec, mounts } : spec];
    }),
  );
  if (!used) return model;
  return { ...model, services, volumes: [...new Set([...model.volumes, backupStoreVolume])] };
}

function claimOf(options: KubernetesRenderOptions, volume: string): number {
  const gb = options.claimsGb[volume];
  if (gb === undefined) throw new Error(`kubernetes target: no size for the volume "${volume}" (claimsGb)`);
  return gb;
}

const podLabel = "provisioner.pod";
const spreadLabel = "provisioner.spread";
const credentialsSecret = "credentials";
const filesConfigMap = "files";

/** Services grouped by the named volumes they share: each group is one pod. */
export function podGroups(model: SystemModel): string[][] {
  const parent = new Map<string, string>();
  const find = (s: string): string => {
    const p = parent.get(s)!;
    if (p === s) return s;
    const root = find(p);
    parent.set(s, root);
    return root;
  };
  // A scheduled service runs as a CronJob of its own (it mounts the claims it shares with a pod).
  const names = Object.keys(model.services).filter((n) => !model.services[n]!.schedule);
  for (const n of names) parent.set(n, n);
  const owner = new Map<string, string>();
  for (const n of names) {
    for (const m of model.services[n]!.mounts ?? []) {
      if (m.source.startsWith("file:")) continue;
      const first = owner.get(m.source);
      if (first === undefined) owner.set(m.source, n);
      else parent.set(find(n), find(first));
    }
  }
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const root = find(n);
    groups.set(root, [...(groups.get(root) ?? []), n]);
  }
  // Named after its first service in the model's order: stable across updates.
  return [...groups.values()];
}

/**
 * The environment values (`env:<service>.<NAME>`) and files (`file:<name>`)
 * that depend on a generated secret: those that differ between two renderings
 * of the system with different secrets. It catches derived values too (a
 * peer's private key from the identity seed, `user:password` strings).
 */
export function secretKeys(a: SystemModel, b: SystemModel): string[] {
  const keys: string[] = [];
  for (const [name, spec] of Object.entries(a.services))
    for (const [key, value] of Object.entries(spec.environment ?? {}))
      if (b.services[name]?.environment?.[key] !== value) keys.push(`env:${name}.${key}`);
  for (const [file, content] of Object.entries(a.files)) if (b.files[file] !== content) keys.push(`file:${file}`);
  return keys;
}

function probe(check: HealthCheck, kind: "readiness" | "startup" | "liveness"): Record<string, unknown> {
  const [mode, ...rest] = check.test;
  const command = mode === "CMD-SHELL" ? ["/bin/sh", "-c", rest.join(" ")] : rest;
  const base = { exec: { command }, timeoutSeconds: check.timeoutSeconds };
  if (kind === "readiness") return { ...base, periodSeconds: check.intervalSeconds, failureThreshold: 3 };
  // As long as the Docker host waits for health (5 minutes), then liveness takes over.
  if (kind === "startup")
    return { ...base, periodSeconds: check.intervalSeconds, failureThreshold: Math.ceil(300 / check.intervalSeconds) };
  // Restarts only a container that has failed its check for 5 minutes: a
  // peer whose neighbours are away is unhealthy but must not be killed for it.
  return { ...base, periodSeconds: 10, failureThreshold: 30 };
}

function runAs(user: string | undefined, userIds: Record<string, number>): Record<string, number> {
  if (user === undefined) return {};
  const [u, g] = user.split(":");
  const id = (name: string) => {
    if (/^\d+$/.test(name)) return Number(name);
    if (name === "root") return 0;
    const known = userIds[name];
    if (known === undefined) throw new Error(`kubernetes target: no numeric id for the user "${name}" (userIds)`);
    return known;
  };
  const uid = id(u!);
  return { runAsUser: uid, ...(g !== undefined ? { runAsGroup: id(g) } : {}) };
}

const nodeNameVariable = "PROVISIONER_NODE_NAME";

const shmVolume = (service: string) => `shm-${service}`;

const cpu = (cpus: number) => `${Math.round(cpus * 1000)}m`;
const memory = (mb: number) => `${Math.round(mb)}Mi`;

function container(name: string, spec: ServiceSpec, options: KubernetesRenderOptions, secretData: Record<string, string>) {
  const env: Record<string, unknown>[] = Object.entries(spec.environment ?? {}).map(([key, value]) => {
    if (!options.secretKeys.includes(`env:${name}.${key}`)) return { name: key, value };
    const secretKey = `${name}.${key}`;
    secretData[secretKey] = value;
    return { name: key, valueFrom: { secretKeyRef: { name: credentialsSecret, key: secretKey } } };
  });
  // The node's name first: Kubernetes expands $(NAME) only from variables defined before.
  if (spec.nodeEnvironment) {
    env.push({ name: nodeNameVariable, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
    for (const [key, value] of Object.entries(spec.nodeEnvironment))
      env.push({ name: key, value: value.replaceAll("{node}", `$(${nodeNameVariable})`) });
  }
  const volumeMounts: Record<string, unknown>[] = (spec.mounts ?? []).map((m) => {
    if (!m.source.startsWith("file:")) return claimMount(m);
    const file = m.source.slice("file:".length);
    return { name: `file-${file.replace(/[^a-z0-9-]/gi, "-").toLowerCase()}`, mountPath: m.target, subPath: file, readOnly: true };
  });
  // Docker's shm_size: a memory-backed /dev/shm of that size (a pod's default is 64 MB, as Docker's).
  if (spec.shmMb !== undefined) volumeMounts.push({ name: shmVolume(name), mountPath: "/dev/shm" });
  // `nofile` has no per-container form on Kubernetes: containers get the runtime's limit (containerd: 1048576 by default).
  const user = runAs(spec.user, options.userIds);
  return {
    name,
    image: spec.image,
    // Images come from the cluster's registry or were imported into its nodes.
    imagePullPolicy: "IfNotPresent",
    ...(spec.entrypoint && { command: spec.entrypoint }),
    ...(spec.command && { args: spec.command }),
    env,
    ports: (spec.ports ?? []).map((p) => ({ containerPort: p.container, protocol: (p.protocol ?? "tcp").toUpperCase() })),
    volumeMounts,
    resources: {
      limits: { cpu: cpu(spec.limits.cpus), memory: memory(spec.limits.memoryMb) },
      requests: { cpu: cpu(spec.limits.cpus * requestFraction), memory: memory(spec.limits.memoryMb * requestFraction) },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], ...(spec.capabilities?.length && { add: spec.capabilities }) },
      ...user,
    },
    ...(spec.healthCheck && {
      readinessProbe: probe(spec.healthCheck, "readiness"),
      startupProbe: probe(spec.healthCheck, "startup"),
      livenessProbe: probe(spec.healthCheck, "liveness"),
    }),
  };
}

/**
 * A new Docker volume takes the image's ownership of its mount point; a new
 * claim is a directory of root's (local-path: mode 0777). A service that runs
 * as another user and needs to own its data directory (PostgreSQL refuses
 * one it does not own) gets it from this init container: as root, with
 * CAP_CHOWN only, it gives each claim mount's top directory to the
 * service's uid when root still owns it (once: nothing inside is touched).
 */
function volumeOwner(name: string, spec: ServiceSpec, userIds: Record<string, number>) {
  const user = runAs(spec.user, userIds);
  const targets = (spec.mounts ?? []).filter((m) => !m.source.startsWith("file:") && !m.readOnly);
  if (!user.runAsUser || targets.length === 0) return undefined;
  const owner = `${user.runAsUser}${user.runAsGroup !== undefined ? `:${user.runAsGroup}` : ""}`;
  return {
    name: `${name}-volume-owner`,
    image: spec.image,
    imagePullPolicy: "IfNotPresent",
    command: ["/bin/sh", "-c", `for d in "$@"; do [ "$(stat -c %u "$d")" != 0 ] || chown ${owner} "$d"; done`, "volume-owner"],
    args: targets.map((m) => m.target),
    volumeMounts: targets.map(claimMount),
    resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "16Mi" } },
    securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["CHOWN"] } },
  };
}

const claimMount = (m: Mount) => ({
  name: m.source,
  mountPath: m.target,
  ...(m.subPath && { subPath: m.subPath }),
  ...(m.readOnly && { readOnly: true }),
});

/** The named volumes (claims) the services mount. */
const claimsOf = (specs: (readonly [string, ServiceSpec])[]) => [
  ...new Set(specs.flatMap(([, s]) => (s.mounts ?? []).map((m) => m.source).filter((m) => !m.startsWith("file:")))),
];

/** A pod's volumes other than its claims: the files it mounts (ConfigMap, or the Secret), a memory-backed /dev/shm. */
function podVolumes(specs: (readonly [string, ServiceSpec])[], secretFiles: Set<string>): Record<string, unknown>[] {
  const files = [...new Set(specs.flatMap(([, s]) => (s.mounts ?? []).map((m) => m.source).filter((m) => m.startsWith("file:"))))].map(
    (m) => m.slice("file:".length),
  );
  const volumes: Record<string, unknown>[] = files.map((file) => ({
    name: `file-${file.replace(/[^a-z0-9-]/gi, "-").toLowerCase()}`,
    ...(secretFiles.has(file)
      ? { secret: { secretName: credentialsSecret, items: [{ key: `file.${file}`, path: file }], defaultMode: 0o555 } }
      : { configMap: { name: filesConfigMap, items: [{ key: file, path: file }], defaultMode: 0o555 } }),
  }));
  for (const [name, spec] of specs)
    if (spec.shmMb !== undefined) volumes.push({ name: shmVolume(name), emptyDir: { medium: "Memory", sizeLimit: memory(spec.shmMb) } });
  return volumes;
}

/**
 * A schedule as cron: daily at `HH:MM` (UTC), or every `everyMinutes`. Cron
 * steps divide the hour (or the day): an interval that does not is run at the
 * longest step that does and is no longer, so backups are never further apart
 * than asked (the health check allows one and a half intervals).
 */
export function scheduleCron({ dailyAtUtc, everyMinutes }: { dailyAtUtc: string; everyMinutes?: number }): string {
  // The largest divisor of `of` that is at most `most`.
  const step = (of: number, most: number) => Math.max(...Array.from({ length: most }, (_, i) => i + 1).filter((d) => of % d === 0));
  if (everyMinutes && everyMinutes < 60) return `*/${step(60, everyMinutes)} * * * *`;
  if (everyMinutes && everyMinutes < 1440) return `0 */${step(24, Math.floor(everyMinutes / 60))} * * *`;
  const match = /^(\d{2}):(\d{2})$/.exec(dailyAtUtc);
  if (!match) throw new Error(`kubernetes target: schedule time "${dailyAtUtc}" is not HH:MM`);
  return `${Number(match[2])} ${Number(match[1])} * * *`;
}

/** A short digest naming a task's Job: what it runs and against which workloads. */
function digest(...parts: string[]): string {
  return crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 10);
}

/** StatefulSets each after those it waits for (`after`), otherwise in the model's order. */
function dependencyOrder(workloads: Manifest[]): Manifest[] {
  const byName = new Map(workloads.map((w) => [w.metadata.name, w]));
  const ordered: Manifest[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (w: Manifest) => {
    const seen = state.get(w.metadata.name);
    if (seen === "done") return;
    if (seen === "visiting") throw new Error(`kubernetes target: StatefulSet ${w.metadata.name} waits for itself (dependsOn cycle)`);
    state.set(w.metadata.name, "visiting");
    for (const n of w.after ?? []) visit(byName.get(n)!);
    state.set(w.metadata.name, "done");
    ordered.push(w);
  };
  for (const w of workloads) visit(w);
  return ordered;
}

/** Every object of the system, namespace first. */
export function renderManifests(system: SystemModel, options: KubernetesRenderOptions): Manifest[] {
  const model = withBackupStoreVolume(system);
  const namespace = model.project;
  const labels = { ...model.labels, "app.kubernetes.io/managed-by": "provisioner" };
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace, labels: { ...labels, ...extra } });
  const secretData: Record<string, string> = {};
  const groups = podGroups(model);
  const podOf = new Map(groups.flatMap((group) => group.map((service) => [service, group[0]!] as const)));
  const out: Manifest[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } }];

  // Files: a ConfigMap, or the Secret when a file carries a generated secret.
  const plainFiles: Record<string, string> = {};
  const secretFiles = new Set<string>();
  for (const [file, content] of Object.entries(model.files)) {
    if (options.secretKeys.includes(`file:${file}`)) {
      secretFiles.add(file);
      secretData[`file.${file}`] = content;
    } else plainFiles[file] = content;
  }
  if (Object.keys(plainFiles).length) out.push({ apiVersion: "v1", kind: "ConfigMap", metadata: meta(filesConfigMap), data: plainFiles });

  const workloads: Manifest[] = [];
  const services: Manifest[] = [];
  for (const group of groups) {
    const podName = group[0]!;
    const specs = group.map((s) => [s, model.services[s]!] as const);
    const podLabels: Record<string, string> = { ...labels, [podLabel]: podName };
    const spread = specs.map(([, s]) => s.spread).find((s) => s !== undefined);
    if (spread) podLabels[spreadLabel] = spread.group;
    const containers = specs.map(([name, spec]) => container(name, spec, options, secretData));
    const initContainers = specs.flatMap(([name, spec]) => volumeOwner(name, spec, options.userIds) ?? []);
    const claims = claimsOf(specs);
    const volumes = podVolumes(specs, secretFiles);
    const affinity = spread && {
      podAntiAffinity: spread.required
        ? {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { [spreadLabel]: spread.group } } },
            ],
          }
        : {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { [spreadLabel]: spread.group } } },
              },
            ],
          },
    };
    const after = [...new Set(specs.flatMap(([, s]) => (s.dependsOn ?? []).map((dep) => podOf.get(dep)!)))].filter((p) => p !== podName);
    workloads.push({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(podName),
      ...(after.length && { after }),
      spec: {
        serviceName: podName,
        replicas: 1,
        selector: { matchLabels: { [podLabel]: podName } },
        // Deleting the resource deletes its data, as `down -v` does on a Docker host; a scale-down keeps it.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
        template: {
          metadata: { labels: podLabels },
          spec: {
            ...(initContainers.length && { initContainers }),
            containers,
            volumes,
            // Service links would put FOO_PORT=tcp://... into every container (POSTGRES_PORT breaks postgres).
            enableServiceLinks: false,
            automountServiceAccountToken: false,
            ...(affinity && { affinity }),
          },
        },
        volumeClaimTemplates: claims.map((claim) => ({
          metadata: { name: claim, labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            ...(options.storageClass && { storageClassName: options.storageClass }),
            resources: { requests: { storage: `${claimOf(options, claim)}Gi` } },
          },
        })),
      },
    });
    // The names the services use for each other: one headless Service each.
    for (const [name] of specs) {
      services.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(name),
        // Addresses before readiness: a replica must reach its primary while the pod as a whole starts.
        spec: { clusterIP: "None", selector: { [podLabel]: podName }, publishNotReadyAddresses: true },
      });
    }
    const published = specs.flatMap(([, s]) => s.ports ?? []);
    if (published.length) {
      services.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(`${podName}-published`),
        spec: {
          type: options.serviceType,
          selector: { [podLabel]: podName },
          ports: published.map((p) => ({
            name: `port-${p.container}`,
            protocol: (p.protocol ?? "tcp").toUpperCase(),
            port: p.container,
            targetPort: p.container,
            // The allocated port: the endpoint names it before the Service exists.
            nodePort: p.host,
          })),
        },
      });
      // Only the published ports are reachable from outside the namespace.
      out.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: meta(`published-${podName}`),
        spec: {
          podSelector: { matchLabels: { [podLabel]: podName } },
          policyTypes: ["Ingress"],
          ingress: [{ ports: published.map((p) => ({ port: p.container, protocol: (p.protocol ?? "tcp").toUpperCase() })) }],
        },
      });
    }
  }
  // Scheduled services (a daily backup): a CronJob each, run as the service with its one-run command. A claim it
  // shares with a pod is that pod's (a ReadWriteOnce volume: the job runs on its node); one of its own is a claim object.
  const claimOwner = new Map(
    workloads.flatMap((w) =>
      claimsOf(groups.find((g) => g[0] === w.metadata.name)!.map((n) => [n, model.services[n]!] as const)).map(
        (c) => [c, w.metadata.name] as const,
      ),
    ),
  );
  const standaloneClaims: Manifest[] = [];
  const scheduled: Manifest[] = [];
  const workloadsDigest = JSON.stringify(workloads);
  for (const [name, spec] of Object.entries(model.services)) {
    if (!spec.schedule) continue;
    const claimVolumes = claimsOf([[name, spec]]).map((claim) => {
      const owner = claimOwner.get(claim);
      if (!owner) {
        standaloneClaims.push({
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: meta(claim),
          spec: {
            accessModes: ["ReadWriteOnce"],
            ...(options.storageClass && { storageClassName: options.storageClass }),
            resources: { requests: { storage: `${claimOf(options, claim)}Gi` } },
          },
        });
      }
      return { name: claim, persistentVolumeClaim: { claimName: owner ? `${claim}-${owner}-0` : claim } };
    });
    const job = { ...container(name, spec, options, secretData), args: spec.schedule.command };
    delete (job as { readinessProbe?: unknown }).readinessProbe;
    delete (job as { startupProbe?: unknown }).startupProbe;
    delete (job as { livenessProbe?: unknown }).livenessProbe;
    const initContainers = [volumeOwner(name, spec, options.userIds) ?? []].flat();
    const after = [...new Set((spec.dependsOn ?? []).map((dep) => podOf.get(dep)!))];
    const jobSpec = (args: string[]) => ({
      backoffLimit: 2,
      template: {
        metadata: { labels: { ...labels, [podLabel]: name } },
        spec: {
          // A failed run is tried again in the same pod: a new pod's first connections can be refused for a
          // moment by a NetworkPolicy enforcer that admits pods late (kube-router: about a second).
          restartPolicy: "OnFailure",
          ...(initContainers.length && { initContainers }),
          containers: [{ ...job, args }],
          volumes: [...claimVolumes, ...podVolumes([[name, spec]], secretFiles)],
          enableServiceLinks: false,
          automountServiceAccountToken: false,
        },
      },
    });
    scheduled.push({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(name),
      ...(after.length && { after }),
      spec: {
        schedule: scheduleCron(spec.schedule),
        timeZone: "Etc/UTC",
        // One run at a time; a run missed by up to an hour (the controller was down) still runs.
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels }, spec: jobSpec(spec.schedule.command) },
      },
    });
    // The first run (the first backup) right after the deploy, which waits for it, as a Docker host's sidecar does.
    const afterDeploy = spec.schedule.afterDeploy;
    if (afterDeploy)
      scheduled.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta(`${name}-${digest(afterDeploy.join(" "), workloadsDigest)}`),
        after: workloads.map((w) => w.metadata.name),
        spec: { ...jobSpec(afterDeploy), activeDeadlineSeconds: 1800 },
      });
  }

  // Tasks (SystemTask): a Job each, in the service's image, user and environment, once every workload is ready (and,
  // on an update, before Pulumi deletes what the update removes). Named from what it runs and the workloads it runs
  // against: an update that changes either runs it again, an unchanged system does not.
  const tasks: Manifest[] = (model.tasks ?? []).map((task) => {
    const spec = model.services[task.service];
    if (!spec) throw new Error(`kubernetes target: task ${task.name} runs in unknown service "${task.service}"`);
    const base = container(task.service, spec, options, secretData);
    return {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta(`${task.name}-${digest(task.when, task.service, task.script, workloadsDigest)}`),
      after: workloads.map((w) => w.metadata.name),
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: 900,
        template: {
          metadata: { labels: { ...labels, "provisioner.task": task.name } },
          spec: {
            // Tried again in the same pod, whose address a late NetworkPolicy enforcer has admitted by then.
            restartPolicy: "OnFailure",
            containers: [
              {
                name: "task",
                image: base.image,
                imagePullPolicy: base.imagePullPolicy,
                command: ["/bin/sh", "-c", task.script],
                env: base.env,
                resources: base.resources,
                securityContext: base.securityContext,
              },
            ],
            enableServiceLinks: false,
            automountServiceAccountToken: false,
          },
        },
      },
    };
  });

  out.push({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta("same-namespace-only"),
    spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
  });
  const claimNames = [
    ...workloads.flatMap((w) =>
      (w.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates.map((c) => c.metadata.name),
    ),
    ...standaloneClaims.map((c) => c.metadata.name),
  ];
  const claimTotalGb = claimNames.reduce((sum, claim) => sum + claimOf(options, claim), 0);
  out.push({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: meta("size"),
    spec: {
      // CPU and memory are held by each container's limits (from the size): a quota on their sum would refuse
      // the pods an update starts (a task, a restarted gateway) while the services it removes still run, since
      // Kubernetes checks a quota when a pod is created and Pulumi deletes what an update removes last.
      hard: {
        // The storage quota: what the claims ask. Whether a volume is held to its claim is the StorageClass's doing.
        "requests.storage": `${claimTotalGb}Gi`,
        persistentvolumeclaims: String(claimNames.length),
        // A rolling restart replaces one pod at a time: room for one extra per workload; and a pod per job at once.
        // With a schedule, one more: the control plane's backup Job (on demand, or the final one before a DELETE).
        pods: String(groups.length * 2 + scheduled.length + tasks.length + (scheduled.length ? 1 : 0)),
      },
    },
  });
  // Spread groups (a primary and its replica, a cluster's peers): one away at a time when nodes drain.
  // A single pod gets none: a budget of 1 would block every drain.
  const spreadGroups = [...new Set(Object.values(model.services).flatMap((s) => (s.spread ? [s.spread.group] : [])))];
  for (const group of spreadGroups)
    out.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(`spread-${group}`),
      spec: { maxUnavailable: 1, selector: { matchLabels: { [spreadLabel]: group } } },
    });
  if (Object.keys(secretData).length)
    out.splice(1, 0, { apiVersion: "v1", kind: "Secret", metadata: meta(credentialsSecret), type: "Opaque", stringData: secretData });
  return [...out, ...standaloneClaims, ...services, ...dependencyOrder(workloads), ...scheduled, ...tasks];
}
