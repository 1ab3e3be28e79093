// The Kubernetes target's resource graph, with Pulumi's mocks standing in for
// the Kubernetes API (no engine, no provider plugin; test/kubernetes-target.test.ts
// runs it on a real cluster).
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TemplateSystem as TemplateSystemType } from "../template-system.js";
import {
  expectNoPlainSecrets,
  generatedHex,
  isSecret,
  outputOf,
  project,
  registered,
  resetRecords,
  resourceId,
  setUpMocks,
} from "../../test/cloud-mocks.js";

let TemplateSystem: typeof TemplateSystemType;
beforeAll(async () => {
  await setUpMocks();
  ({ TemplateSystem } = await import("../template-system.js"));
});
beforeEach(resetRecords);

const kubernetes = { kubeconfig: "apiVersion: v1\nkind: Config\n", publicHost: "10.200.0.1", userIds: { postgres: 100 } };

describe("the Kubernetes target (mocked Kubernetes API)", () => {
  it("postgres-medium: the objects in its namespace, through one provider, secrets only as secrets, endpoint on the node ports", async () => {
    const system = new TemplateSystem("ledger", {
      template: "postgres-medium",
      name: "ledger",
      team: "acme",
      resourceId,
      size: "small",
      ports: { pgbouncer: 21001, replica: 21002 },
      kubernetes,
    });
    const endpoint = await outputOf(system.endpoint);
    expect(endpoint).toMatchObject({ host: "10.200.0.1", port: "21001", replicaPort: "21002" });
    expect(await isSecret(system.credentials)).toBe(true);
    expect((await outputOf(system.credentials)).password).toBe(generatedHex);

    const k8s = registered.filter((r) => r.type.startsWith("kubernetes:"));
    const types = k8s.map((r) => r.type);
    expect(types.filter((t) => t === "kubernetes:apps/v1:StatefulSet").length).toBe(3);
    for (const t of [
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:core/v1:ResourceQuota",
      "kubernetes:policy/v1:PodDisruptionBudget",
    ])
      expect(types).toContain(t);
    const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider).toBeDefined();
    for (const r of k8s) expect(r.provider).toContain(provider.name);
    expect(JSON.stringify(k8s.find((r) => r.type === "kubernetes:core/v1:Namespace")!.inputs)).toContain(project);
    expectNoPlainSecrets();
  });
});
