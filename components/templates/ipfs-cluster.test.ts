// ipfs-cluster-small's options: the JSON Schema published for clients states
// exactly the rules the template enforces, the ones between fields included
// (a client generating requests from the schema makes no invalid one).
import { describe, expect, it } from "vitest";
import { ipfsClusterSmall } from "./ipfs-cluster.js";
import { optionsJsonSchema } from "./template.js";

type Schema = {
  properties?: Record<string, Schema>;
  required?: string[];
  not?: Schema;
  const?: unknown;
  maximum?: number;
  minimum?: number;
  allOf?: { if: Schema; then: Schema }[];
};

/** The JSON Schema keywords the options schema uses, evaluated on one object. */
function holds(schema: Schema, value: Record<string, unknown>): boolean {
  if (schema.not && holds(schema.not, value)) return false;
  if (schema.required?.some((key) => !(key in value))) return false;
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (!(key in value)) continue;
    const v = value[key] as number;
    if (sub.const !== undefined && v !== sub.const) return false;
    if (sub.maximum !== undefined && v > sub.maximum) return false;
    if (sub.minimum !== undefined && v < sub.minimum) return false;
  }
  return (schema.allOf ?? []).every((rule) => !holds(rule.if, value) || holds(rule.then, value));
}

describe("ipfs-cluster-small options", () => {
  const schema = optionsJsonSchema(ipfsClusterSmall) as Schema;
  const values = [undefined, 1, 2, 3, 4, 5, 8, 9];
  const combinations = values.flatMap((peers) =>
    values.flatMap((replicationMin) =>
      values.map((replicationMax) =>
        Object.fromEntries(Object.entries({ peers, replicationMin, replicationMax }).filter(([, v]) => v !== undefined)),
      ),
    ),
  );

  it("is valid by the published schema exactly when the template takes it, for every combination of peers and replication", () => {
    const disagreements = combinations.filter((options) => holds(schema, options) !== ipfsClusterSmall.options.safeParse(options).success);
    expect(disagreements).toEqual([]);
    expect(combinations).toHaveLength(512);
  });

  it("fills the defaults from the other fields: replication within the peers", () => {
    expect(ipfsClusterSmall.options.parse({ peers: 1 })).toEqual({ peers: 1, replicationMin: 1, replicationMax: 1, publicNetwork: true });
    expect(ipfsClusterSmall.options.parse({ peers: 9 })).toEqual({ peers: 9, replicationMin: 2, replicationMax: 3, publicNetwork: true });
    expect(ipfsClusterSmall.options.parse({ replicationMax: 1 })).toEqual({
      peers: 3,
      replicationMin: 1,
      replicationMax: 1,
      publicNetwork: true,
    });
  });
});
