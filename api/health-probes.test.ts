// Which probe checks a resource is its template's to say; every probe a
// template can name has code here. No network: unknown templates only.
import { describe, expect, it } from "vitest";
import { templates } from "../components/templates/index.js";
import { healthProbes } from "../components/templates/template.js";
import { probe, probes } from "./health-probes.js";

describe("health probes", () => {
  it("has the code of every probe a template can declare, and of every one the catalogue uses", () => {
    expect(Object.keys(probes).sort()).toEqual([...healthProbes].sort());
    for (const template of Object.values(templates)) expect(probes[template.healthProbe]).toBeTypeOf("function");
  });

  it("when a resource's template is not in the catalogue, then it is not called healthy", async () => {
    const result = await probe(
      { template: "retired-template", endpoint: {}, credentials: {} },
      { timeoutSeconds: 1, maxReplicaLagSeconds: 60 },
    );
    expect(result.failures).toEqual([{ component: "template", message: "no health probe: unknown template retired-template" }]);
  });
});
