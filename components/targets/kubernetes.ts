// The Kubernetes target: a template's system as Kubernetes objects
// (kubernetes-manifests.ts renders them) through @pulumi/kubernetes. The
// provider waits for each StatefulSet to be ready (its probes are the
// template's health checks), so `up` ends when the system is healthy; delete
// removes the namespace with its claims, whose volumes the StorageClass reclaims.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { SystemModel } from "../model/system.js";
import type { VolumesStatus } from "../model/volume-quota.js";
import { renderManifests, type KubernetesRenderOptions, type Manifest } from "./kubernetes-manifests.js";

export interface KubernetesTarget {
  /** The kubeconfig's content (secret: it may carry keys); empty: in-cluster configuration. */
  kubeconfig?: string;
  /** Host name or address clients reach published ports on (a node, or the load balancers' name). */
  publicHost: string;
  /** StorageClass of the claims; unset: the cluster's default. */
  storageClass?: string;
  /**
   * Whether that StorageClass holds a volume to its claim's size (block
   * volumes of a cloud's CSI driver do; local-path and hostPath do not).
   * Unset: not enforced, and the resource's configuration says so.
   */
  storageEnforced?: boolean;
  /** NodePort (default: the allocated port on every node) or LoadBalancer. */
  serviceType?: "NodePort" | "LoadBalancer";
  /** Numeric ids of the users the images run as (postgres, ipfs); defaults: the official images'. */
  userIds?: Record<string, number>;
}

/** The official images' users. */
export const defaultUserIds: Record<string, number> = { postgres: 999, ipfs: 1000 };

/**
 * The resource's storage quota on Kubernetes: each claim's size (the
 * configuration's `storage`, the same shape as a Docker host's). Enforced
 * only when the operator says the StorageClass enforces it.
 */
export function kubernetesStorage(target: KubernetesTarget, claimsGb: Record<string, number>): VolumesStatus {
  const sizesMb = Object.fromEntries(Object.entries(claimsGb).map(([volume, gb]) => [volume, gb * 1024]));
  const storageClass = target.storageClass ? `StorageClass ${target.storageClass}` : "the cluster's default StorageClass";
  return target.storageEnforced
    ? { quota: "enforced", method: `a PersistentVolumeClaim per volume of its size (${storageClass})`, sizesMb }
    : {
        quota: "not enforced",
        method: `a PersistentVolumeClaim per volume of its size (${storageClass})`,
        reason:
          "the claim's size is requested from the StorageClass, whose provisioner decides whether a volume is held to it: local-path (the test cluster's) and hostPath volumes are not",
        sizesMb,
      };
}

type Create = (name: string, m: pulumi.Output<Manifest>, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;
// The rendered objects are plain JSON of the API's own shape: the SDK's input types add nothing here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const field = (m: pulumi.Output<Manifest>, key: string): pulumi.Output<any> => m.apply((x) => x[key]);
const kinds: Record<string, Create> = {
  Namespace: (n, m, o) => new k8s.core.v1.Namespace(n, { metadata: field(m, "metadata") }, o),
  Secret: (n, m, o) =>
    new k8s.core.v1.Secret(n, { metadata: field(m, "metadata"), type: field(m, "type"), stringData: field(m, "stringData") }, o),
  ConfigMap: (n, m, o) => new k8s.core.v1.ConfigMap(n, { metadata: field(m, "metadata"), data: field(m, "data") }, o),
  Service: (n, m, o) => new k8s.core.v1.Service(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  StatefulSet: (n, m, o) => new k8s.apps.v1.StatefulSet(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  NetworkPolicy: (n, m, o) => new k8s.networking.v1.NetworkPolicy(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  ResourceQuota: (n, m, o) => new k8s.core.v1.ResourceQuota(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  PersistentVolumeClaim: (n, m, o) =>
    new k8s.core.v1.PersistentVolumeClaim(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  // The provider waits for a Job to complete (a task's failure fails the deploy).
  Job: (n, m, o) => new k8s.batch.v1.Job(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  CronJob: (n, m, o) => new k8s.batch.v1.CronJob(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
  PodDisruptionBudget: (n, m, o) => new k8s.policy.v1.PodDisruptionBudget(n, { metadata: field(m, "metadata"), spec: field(m, "spec") }, o),
};

/**
 * Creates the objects of `model`. `shape` is the same system rendered with
 * stand-in secrets: which objects exist never depends on a secret's value,
 * so they are known at preview; their content comes from `model`.
 */
export function deployToKubernetes(
  name: string,
  shape: SystemModel,
  model: pulumi.Output<SystemModel>,
  secretKeys: string[],
  claimsGb: Record<string, number>,
  target: KubernetesTarget,
  opts: pulumi.ComponentResourceOptions,
): pulumi.CustomResource[] {
  const renderOptions: KubernetesRenderOptions = {
    claimsGb,
    storageClass: target.storageClass,
    serviceType: target.serviceType ?? "NodePort",
    userIds: { ...defaultUserIds, ...target.userIds },
    secretKeys,
  };
  const planned = renderManifests(shape, renderOptions);
  const rendered = model.apply((m) => renderManifests(m, renderOptions));
  const provider = new k8s.Provider(
    `${name}-cluster`,
    { ...(target.kubeconfig && { kubeconfig: pulumi.secret(target.kubeconfig) }) },
    opts,
  );
  const resourceOpts = { ...opts, provider };
  const [namespaceManifest, ...rest] = planned;
  const namespace = kinds.Namespace!(
    `${name}-namespace`,
    rendered.apply((all) => all[0]!),
    resourceOpts,
  );
  const byKey = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
  const created = [namespace];
  const statefulSets = new Map<string, pulumi.CustomResource>();
  let quota: pulumi.CustomResource | undefined;
  // Rendered in dependency order (a StatefulSet after those it waits for).
  for (const manifest of rest) {
    const create = kinds[manifest.kind];
    if (!create) throw new Error(`kubernetes target: no resource for kind ${manifest.kind}`);
    const key = byKey(manifest);
    const content = rendered.apply((all) => {
      const found = all.find((m) => byKey(m) === key);
      if (!found) throw new Error(`kubernetes target: ${key} missing from the rendered system`);
      return found;
    });
    const waitsFor = (manifest.after ?? []).map((n) => {
      const dependency = statefulSets.get(n);
      if (!dependency) throw new Error(`kubernetes target: StatefulSet ${manifest.metadata.name} waits for ${n}, rendered after it`);
      return dependency;
    });
    // What makes pods and claims comes after the quota that admits them (a scale-up raises it first).
    const quotaFirst = quota && ["StatefulSet", "Job", "CronJob", "PersistentVolumeClaim"].includes(manifest.kind) ? [quota] : [];
    const resource = create(`${name}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}`, content, {
      ...resourceOpts,
      dependsOn: [namespace, ...quotaFirst, ...waitsFor],
      // A StatefulSet's claim templates cannot change: Pulumi would replace it, and its claims go with it
      // (whenDeleted: Delete). A resize keeps the claims as they are (data is sacred); see README.
      ...(manifest.kind === "StatefulSet" && { ignoreChanges: ["spec.volumeClaimTemplates"] }),
    });
    if (manifest.kind === "StatefulSet") statefulSets.set(manifest.metadata.name, resource);
    if (manifest.kind === "ResourceQuota") quota = resource;
    created.push(resource);
  }
  void namespaceManifest;
  return created;
}
