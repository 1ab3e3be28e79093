// ipfs-cluster-small's options: the JSON Schema published for clients states
// exactly the rules the template enforces, the ones between fields included
// (a client generating requests from the schema makes no invalid one).
import { describe, expect, it } from "vitest";
import { ipfsClusterSmall } from "./ipfs-cluster.js";
import { optionsJsonSchema } from "./template.js";
import { buildSystem, prepareRequest } from "./index.js";

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

// Two Kubo nodes dialing each other at once could end up connected twice with
// Bitswap on neither connection (ipfs-cluster.ts, peerKuboNodes): after a
// deployment every pair is dialed once, from one side, and peered from both.
describe("ipfs-cluster-small's Kubo connections", () => {
  for (const peers of [1, 2, 3, 9]) {
    it(`dials each of the ${peers} nodes' pairs once, from one side, and peers every node with every other`, () => {
      const prepared = prepareRequest({
        template: "ipfs-cluster-small",
        name: "files",
        team: "qa",
        resourceId: "7f1c2b9e-3d4a-4c5b-8e6f-0a1b2c3d4e5f",
        options: { peers },
      });
      const ports = Object.fromEntries(prepared.portNames.map((name, i) => [name, 20000 + i]));
      const secrets = Object.fromEntries(Object.keys(prepared.secretSizes).map((name) => [name, "ab".repeat(32)]));
      const images = { kubo: "kubo", ipfsCluster: "cluster", postgres: "postgres", pgbouncer: "pgbouncer" };
      const { model } = buildSystem(prepared, { ports, secrets, images, publishIp: "127.0.0.1", publicHost: "127.0.0.1" });
      const task = model.tasks?.find((t) => t.name === "peer-kubo-nodes");
      expect(task?.when).toBe("afterUp");
      // Each line: `retry ipfs --api /dns4/ipfs<i>/tcp/5001 <command> /dns4/ipfs<j>/... [/dns4/ipfs<k>/...]`: edges i->j, i->k.
      const edges = (command: string) =>
        task!.script.split("\n").flatMap((line) => {
          const from = new RegExp(`^retry ipfs --api /dns4/ipfs(\\d+)/tcp/5001 ${command} (.*)$`).exec(line);
          if (!from) return [];
          return [...from[2]!.matchAll(/\/dns4\/ipfs(\d+)\//g)].map((m) => `${from[1]}->${m[1]}`);
        });
      const pairs = Array.from({ length: peers }, (_, i) => i).flatMap((i) =>
        Array.from({ length: peers }, (_, j) => j)
          .filter((j) => j > i)
          .map((j) => [i, j] as const),
      );
      const dials = edges("swarm connect");
      for (const [i, j] of pairs) expect(dials.filter((d) => d === `${i}->${j}` || d === `${j}->${i}`)).toHaveLength(1);
      expect(dials).toHaveLength(pairs.length);
      expect(edges("swarm peering add").sort()).toEqual(pairs.flatMap(([i, j]) => [`${i}->${j}`, `${j}->${i}`]).sort());
      for (const [name, service] of Object.entries(model.services))
        if (name.startsWith("cluster")) expect(service.environment?.CLUSTER_IPFSHTTP_CONNECTSWARMSDELAY).toBe("0");
    });
  }
});
