// The Kubernetes objects rendered from the real templates' models (no cluster:
// content only; test/kubernetes-target.test.ts deploys them on a real one).
import { describe, expect, it } from "vitest";
import { resolveImages } from "../images.js";
import { buildSystem, prepareRequest } from "../templates/index.js";
import { volumeSizesGb } from "../templates/volume-sizes.js";
import { backupStoreReadPath } from "../model/system.js";
import {
  claimsGb,
  podGroups,
  renderManifests,
  scheduleCron,
  secretKeys,
  withBackupStoreVolume,
  type Manifest,
} from "./kubernetes-manifests.js";

const resourceId = "0f8e4c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

function render(template: string, ports: Record<string, number>, options?: unknown, size?: string) {
  const prepared = prepareRequest({ template, name: "db", team: "acme", resourceId, options, size });
  const secretsOf = (digit: string) => Object.fromEntries(Object.entries(prepared.secretSizes).map(([s, n]) => [s, digit.repeat(2 * n)]));
  const inputs = (d: string) => ({ ports, secrets: secretsOf(d), images: resolveImages({}), publishIp: "0.0.0.0", publicHost: "10.0.0.1" });
  const a = buildSystem(prepared, inputs("a")).model;
  const b = buildSystem(prepared, inputs("b")).model;
  const claims = claimsGb(volumeSizesGb(prepared, withBackupStoreVolume(a).volumes));
  const manifests = renderManifests(a, {
    claimsGb: claims,
    serviceType: "NodePort",
    userIds: { postgres: 999, ipfs: 1000 },
    secretKeys: secretKeys(a, b),
  });
  return { manifests, model: a, claims, prepared, secret: "a".repeat(48) };
}

/** A 3-peer ipfs-cluster-small's port allocation. */
const clusterPorts = {
  restApi: 22001,
  pinningServiceApi: 22002,
  metrics: 22003,
  gateway0: 22004,
  gateway1: 22005,
  gateway2: 22006,
  gateway: 22007,
};

const find = (ms: Manifest[], kind: string, name: string) => ms.find((m) => m.kind === kind && m.metadata.name === name)!;
const spec = (m: Manifest) => m.spec as any;

describe("Kubernetes objects of a template (renderManifests)", () => {
  it("postgres-medium: one namespace named from the id, primary and replica apart (required), published ports as NodePorts", () => {
    const { manifests, claims, prepared } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 });
    const namespace = `r${resourceId.replaceAll("-", "")}`;
    expect(manifests[0]).toMatchObject({ kind: "Namespace", metadata: { name: namespace } });
    for (const m of manifests.slice(1)) expect(m.metadata.namespace).toBe(namespace);

    // The backup is a CronJob (below): the primary's pod is the server alone; the replica has its own.
    const primary = find(manifests, "StatefulSet", "postgres");
    expect(spec(primary).template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["postgres"]);
    const replica = find(manifests, "StatefulSet", "replica");
    for (const sts of [primary, replica]) {
      const term = spec(sts).template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      expect(term.topologyKey).toBe("kubernetes.io/hostname");
      expect(term.labelSelector.matchLabels).toEqual({ "provisioner.spread": "postgres" });
      expect(spec(sts).template.metadata.labels["provisioner.spread"]).toBe("postgres");
    }
    // Claims: every named volume, sized from the template's own sizes (its data over its volumes, as quotas and clouds size them).
    // The backup store's share is the store's claim; the two data volumes share the rest.
    const size = prepared.template.sizes[prepared.size];
    const storeGb = prepared.template.backupStoreGb!(size, prepared.options);
    const dataGb = prepared.template.dataGb(size, prepared.options) - storeGb;
    expect(Object.keys(claims).sort()).toEqual(["backup-store", "pgdata", "replica-data"]);
    expect(claims).toEqual({ "backup-store": Math.ceil(storeGb), pgdata: Math.ceil(dataGb / 2), "replica-data": Math.ceil(dataGb / 2) });
    expect(
      spec(primary)
        .volumeClaimTemplates.map((c: { metadata: { name: string } }) => c.metadata.name)
        .sort(),
    ).toEqual(["backup-store", "pgdata"]);
    const replicaClaim = spec(replica).volumeClaimTemplates[0];
    expect(replicaClaim.spec.resources.requests.storage).toBe(`${claims[replicaClaim.metadata.name]}Gi`);

    const published = find(manifests, "Service", "pgbouncer-published");
    expect(spec(published)).toMatchObject({ type: "NodePort", ports: [{ port: 5432, nodePort: 21001 }] });
    expect(spec(find(manifests, "Service", "replica-published")).ports[0].nodePort).toBe(21002);
    // Every Compose name resolves: a headless Service each.
    for (const name of ["postgres", "replica", "pgbouncer"]) expect(spec(find(manifests, "Service", name)).clusterIP).toBe("None");
    // Created after the primary is ready, as Compose waits for it to be healthy (and never scheduled together with it).
    expect(replica.after).toEqual(["postgres"]);
    expect(find(manifests, "StatefulSet", "pgbouncer").after).toEqual(["postgres"]);
    const order = manifests.filter((m) => m.kind === "StatefulSet").map((m) => m.metadata.name);
    expect(order.indexOf("postgres")).toBeLessThan(order.indexOf("replica"));

    expect(find(manifests, "PodDisruptionBudget", "spread-postgres")).toBeDefined();
    const quota = spec(find(manifests, "ResourceQuota", "size")).hard;
    expect(quota["requests.storage"]).toBe(`${Object.values(claims).reduce((a, b) => a + b, 0)}Gi`);
    expect(quota.persistentvolumeclaims).toBe("3");
  });

  it("postgres-medium: the daily backup is a CronJob at the backup time; the backup store (a host folder on Docker) is a claim shared with the primary's WAL archive", () => {
    const { manifests, claims, prepared } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 }, { backupTime: "03:45" });
    const cron = find(manifests, "CronJob", "backup");
    expect(spec(cron)).toMatchObject({ schedule: "45 3 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
    expect(cron.after).toEqual(["postgres"]);
    const pod = spec(cron).jobTemplate.spec.template.spec;
    // A failed run is tried again in its own pod (a late NetworkPolicy enforcer admits a new pod after a moment).
    expect(pod.restartPolicy).toBe("OnFailure");
    expect(pod.containers[0].args).toEqual(["once", "scheduled"]);
    expect(pod.containers[0].command).toEqual(["/bin/sh", "/etc/provisioner/backup.sh"]);
    expect(pod.containers[0].readinessProbe).toBeUndefined();
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "backup-store", mountPath: "/backups" });
    const claimNames = pod.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName);
    expect(claimNames).toEqual(["backup-store-postgres-0"]);
    // The primary archives its WAL into the store's wal folder; no host path anywhere.
    const primary = spec(find(manifests, "StatefulSet", "postgres"));
    expect(primary.template.spec.containers[0].volumeMounts).toContainEqual({
      name: "backup-store",
      mountPath: "/archive",
      subPath: "wal",
    });
    expect(JSON.stringify(manifests)).not.toContain("/var/lib/provisioner");
    expect(claims["backup-store"]).toBe(
      Math.max(1, Math.ceil(prepared.template.backupStoreGb!(prepared.template.sizes[prepared.size], prepared.options))),
    );
    expect(primary.volumeClaimTemplates.map((c: any) => c.metadata.name).sort()).toEqual(["backup-store", "pgdata"]);
    // The server sees the whole store read-only: the control plane copies it out through that pod.
    expect(primary.template.spec.containers[0].volumeMounts).toContainEqual({
      name: "backup-store",
      mountPath: backupStoreReadPath,
      readOnly: true,
    });
    // The first backup: a Job after the workloads (the deploy waits for it), the same pod as the CronJob's but `first`.
    const first = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("backup-"))!;
    expect(first.after?.sort()).toEqual(["pgbouncer", "postgres", "replica"]);
    expect(spec(first).template.spec.containers[0].args).toEqual(["first"]);
    expect(spec(first).template.spec.volumes).toEqual(pod.volumes);
    // The quota counts every claim, the CronJob's and the first backup's pods and one Job of the control plane's;
    // CPU and memory are the containers' limits (none on the namespace: see the renderer).
    const quota = spec(find(manifests, "ResourceQuota", "size")).hard;
    expect(quota.persistentvolumeclaims).toBe("3");
    expect(quota.pods).toBe(String(3 * 2 + 2 + 1));
    expect(quota["limits.cpu"]).toBeUndefined();
  });

  it("a backup interval becomes a cron step that divides the hour or the day and is never longer than asked", () => {
    const every = (everyMinutes: number) => scheduleCron({ dailyAtUtc: "02:30", everyMinutes });
    expect(scheduleCron({ dailyAtUtc: "02:30" })).toBe("30 2 * * *");
    expect([every(1), every(15), every(45), every(59)]).toEqual(["*/1 * * * *", "*/15 * * * *", "*/30 * * * *", "*/30 * * * *"]);
    expect([every(60), every(90), every(300), every(1439)]).toEqual(["0 */1 * * *", "0 */1 * * *", "0 */4 * * *", "0 */12 * * *"]);
    expect(every(1440)).toBe("30 2 * * *");
    const { manifests } = render("postgres-small", { pgbouncer: 21001 }, { backupIntervalMinutes: 20 });
    expect(spec(find(manifests, "CronJob", "backup")).schedule).toBe("*/20 * * * *");
  });

  it("postgres-small: the backup store is a claim of the server's pod, which sees it read-only; a restore from another resource's store is refused on Kubernetes", () => {
    const { manifests, model } = render("postgres-small", { pgbouncer: 21001 });
    const server = spec(find(manifests, "StatefulSet", "postgres"));
    expect(server.volumeClaimTemplates.map((c: any) => c.metadata.name).sort()).toEqual(["backup-store", "pgdata"]);
    expect(server.template.spec.containers[0].volumeMounts).toContainEqual({
      name: "backup-store",
      mountPath: backupStoreReadPath,
      readOnly: true,
    });
    expect(manifests.filter((m) => m.kind === "PersistentVolumeClaim")).toEqual([]);
    const other = { ...model, services: { ...model.services } };
    other.services.postgres = {
      ...other.services.postgres!,
      mounts: [
        ...other.services.postgres!.mounts!,
        { source: "host:/var/lib/provisioner/backups/rother", target: "/restore-source", readOnly: true },
      ],
    };
    expect(() => withBackupStoreVolume(other)).toThrow(/not this resource's backup store/);
  });

  it("a service that must own its data directory gets it from a CAP_CHOWN-only init container (a new claim is root's)", () => {
    const { manifests } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 });
    const init = spec(find(manifests, "StatefulSet", "replica")).template.spec.initContainers;
    expect(init).toHaveLength(1);
    expect(init[0].args).toEqual(["/var/lib/postgresql/data"]);
    expect(init[0].command[2]).toContain("chown 999 ");
    expect(init[0].securityContext).toEqual({
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["CHOWN"] },
    });
  });

  it("postgres-medium: passwords only in the Secret, never in a pod's environment or a ConfigMap", () => {
    const { manifests, secret } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 });
    const secretObject = find(manifests, "Secret", "credentials");
    expect(JSON.stringify(secretObject)).toContain(secret);
    for (const m of manifests.filter((x) => x.kind !== "Secret")) expect(JSON.stringify(m)).not.toContain(secret);
    const env = spec(find(manifests, "StatefulSet", "replica")).template.spec.containers[0].env;
    expect(env.find((e: { name: string }) => e.name === "REPLICATION_PASSWORD").valueFrom.secretKeyRef).toEqual({
      name: "credentials",
      key: "replica.REPLICATION_PASSWORD",
    });
  });

  it("containers: requests a fraction of the limits, probes from the health checks, no capability unless named, uid for named users", () => {
    const { manifests, prepared } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 });
    const replica = spec(find(manifests, "StatefulSet", "replica")).template.spec;
    const c = replica.containers[0];
    // The replica runs at the template's size, as the primary does.
    const size = prepared.template.sizes[prepared.size];
    expect(c.resources.limits).toEqual({ cpu: `${size.cpus * 1000}m`, memory: `${size.memoryMb}Mi` });
    expect(c.resources.requests).toEqual({ cpu: `${size.cpus * 250}m`, memory: `${size.memoryMb / 4}Mi` });
    expect(c.readinessProbe.exec.command).toEqual(["/bin/sh", "-c", "pg_isready -h 127.0.0.1"]);
    expect(c.livenessProbe.exec.command).toEqual(c.readinessProbe.exec.command);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsUser: 999 });
    expect(replica.enableServiceLinks).toBe(false);
    const primary = spec(find(manifests, "StatefulSet", "postgres")).template.spec.containers[0];
    expect(primary.securityContext.capabilities.add).toEqual(["CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETUID", "SETGID"]);
    // Files: scripts without secrets in the ConfigMap, mounted by subPath.
    expect(Object.keys((find(manifests, "ConfigMap", "files") as unknown as { data: object }).data)).toContain("replica.sh");
    expect(c.volumeMounts).toContainEqual({
      name: "file-replica-sh",
      mountPath: "/etc/provisioner/replica.sh",
      subPath: "replica.sh",
      readOnly: true,
    });
  });

  it("NetworkPolicy: same-namespace traffic, and from outside only the published ports", () => {
    const { manifests } = render("postgres-medium", { pgbouncer: 21001, replica: 21002 });
    expect(spec(find(manifests, "NetworkPolicy", "same-namespace-only"))).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: {} }] }],
    });
    expect(spec(find(manifests, "NetworkPolicy", "published-pgbouncer"))).toEqual({
      podSelector: { matchLabels: { "provisioner.pod": "pgbouncer" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ port: 5432, protocol: "TCP" }] }],
    });
  });

  it("sizes: limits from the template's size, claims per volume (peer state 1 GiB, Kubo data its share), /dev/shm from shmMb", () => {
    const { manifests, claims, prepared } = render("ipfs-cluster-small", clusterPorts, { peers: 3 }, "medium");
    const size = prepared.template.sizes.medium;
    const kubo = spec(find(manifests, "StatefulSet", "ipfs0"));
    expect(kubo.template.spec.containers[0].resources.limits).toEqual({ cpu: `${size.cpus * 1000}m`, memory: `${size.memoryMb}Mi` });
    expect(claims["cluster0-data"]).toBe(1);
    expect(claims["ipfs0-data"]).toBe(size.storageGb);
    expect(kubo.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(`${size.storageGb}Gi`);

    const pg = render("postgres-medium", { pgbouncer: 21001, replica: 21002 }, undefined, "small");
    const primary = spec(find(pg.manifests, "StatefulSet", "postgres")).template.spec;
    const shm = primary.volumes.find((v: { name: string }) => v.name === "shm-postgres");
    expect(shm.emptyDir.medium).toBe("Memory");
    expect(primary.containers[0].volumeMounts).toContainEqual({ name: "shm-postgres", mountPath: "/dev/shm" });
    expect(primary.containers[0].resources.limits.memory).toBe(`${pg.prepared.template.sizes.small.memoryMb}Mi`);
  });

  it("ipfs-cluster-small: a pod per Kubo node and per peer, peers spread when possible, derived secrets (peer keys) in the Secret", () => {
    const { manifests, model } = render("ipfs-cluster-small", clusterPorts, { peers: 3 });
    // 3 Kubo nodes, 3 peers, the gateway balancer and the metrics proxy: nothing shares a volume.
    expect(podGroups(model).length).toBe(Object.keys(model.services).length);
    expect(podGroups(model).length).toBe(8);
    const peer = spec(find(manifests, "StatefulSet", "cluster1")).template.spec;
    expect(
      peer.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels,
    ).toEqual({
      "provisioner.spread": "cluster-peers",
    });
    const env = peer.containers[0].env as { name: string; value?: string }[];
    expect(env.find((e) => e.name === "CLUSTER_PRIVATEKEY")!.value).toBeUndefined();
    expect(env.find((e) => e.name === "CLUSTER_PEERNAME")!.value).toBe("cluster1");
    // Each peer's tag group is its node: the allocator puts a pin's copies on different nodes.
    const names = env.map((e) => e.name);
    expect(names.indexOf("PROVISIONER_NODE_NAME")).toBeLessThan(names.indexOf("CLUSTER_TAGS_TAGS"));
    expect(env.find((e) => e.name === "CLUSTER_TAGS_TAGS")!.value).toBe("group:$(PROVISIONER_NODE_NAME)");
    expect(peer.containers[0].securityContext.runAsUser).toBe(1000);
    expect(spec(find(manifests, "Service", "ipfs2-published")).ports[0]).toMatchObject({ port: 8080, nodePort: 22006 });

    // The template's tasks: Jobs in the service's image and environment, after every workload, renamed when the system changes.
    const jobs = manifests.filter((m) => m.kind === "Job");
    expect(jobs.map((j) => j.metadata.name.replace(/-[0-9a-f]{10}$/, "")).sort()).toEqual(["peer-kubo-nodes", "remove-peers"]);
    const removal = jobs.find((j) => j.metadata.name.startsWith("remove-peers"))!;
    expect(removal.after!.sort()).toEqual(
      manifests
        .filter((m) => m.kind === "StatefulSet")
        .map((m) => m.metadata.name)
        .sort(),
    );
    const task = spec(removal).template.spec.containers[0];
    expect(task.command[2]).toContain("peers rm");
    expect(task.env.find((e: { name: string }) => e.name === "CLUSTER_RESTAPI_BASICAUTHCREDENTIALS").valueFrom.secretKeyRef.name).toBe(
      "credentials",
    );
    const four = render("ipfs-cluster-small", { ...clusterPorts, gateway3: 22008 }, { peers: 4 }).manifests.filter((m) => m.kind === "Job");
    expect(four.map((j) => j.metadata.name)).not.toContain(removal.metadata.name);
  });
});
