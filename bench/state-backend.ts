// The Pulumi state in Postgres (the default) against a file backend, same run:
// a no-change `up` of postgres-small through the engine, and a small-storage
// create to ACTIVE through the service (its API and worker in-process).
// Prints figures; asserts nothing. Run: npm run bench -- state-backend
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TeamService } from "../api/teams.service.js";
import { resolvePulumiBackend, ensureStateDatabase } from "../core/pulumi-backend.js";
import { testDeployment } from "../test/deployment.js";
import { client, waitForOperation, waitForStatus } from "../test/service-client.js";
import { startTestServer } from "../test/test-server.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const postgres = resolvePulumiBackend(undefined, process.env.DATABASE_URL!);
await ensureStateDatabase(postgres);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-state-"));
const backends = { file: { url: `file://${path.join(root, "state")}`, env: {} }, postgres } as const;
fs.mkdirSync(path.join(root, "state"));

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** postgres-small through the engine: the first up, then `up` with nothing to change. */
async function engine(backend: { url: string; env: Record<string, string> }, i: number) {
  const deployment = await testDeployment({ template: "postgres-small", name: `benchstate${i}`, team: "bench" }, {}, backend);
  const up = await seconds(() => deployment.up());
  const noChange = await seconds(() => deployment.up());
  const { stack } = deployment;
  await deployment.destroy();
  await stack.workspace.removeStack(stack.name);
  return { up, noChange };
}

/** small-storage through the service: POST to ACTIVE, then its DELETE. */
async function service(backendUrl: string) {
  const server = await startTestServer({ PULUMI_BACKEND_URL: backendUrl, HEALTH_CHECK_INTERVAL_SECONDS: "0" });
  try {
    const { apiKey } = await new TeamService(server.service.db).create(`bench${crypto.randomBytes(3).toString("hex")}`, "PRO");
    const api = client(server.base, apiKey);
    let id = "";
    const toActive = await seconds(async () => {
      id = (await api.post("/v1/resources", { template: "small-storage", name: "bench", options: { publicNetwork: false } })).body.resource
        .id;
      const resource = await waitForStatus(api, id, ["ACTIVE", "FAILED"]);
      if (resource.status !== "ACTIVE") throw new Error(`small-storage ${resource.status}: ${resource.lastError}`);
    });
    const deleted = await api.delete(`/v1/resources/${id}`);
    await waitForOperation(api, id, deleted.body.operation.id);
    return toActive;
  } finally {
    await server.close();
  }
}

console.log(`runs per figure: ${runs} (median), alternating backends; machine: ${os.cpus().length} cores`);
const figures: Record<string, { noChange: number[]; up: number[]; create: number[] }> = {
  file: { noChange: [], up: [], create: [] },
  postgres: { noChange: [], up: [], create: [] },
};
try {
  for (let i = 0; i < runs; i++) {
    for (const name of ["file", "postgres"] as const) {
      const { up, noChange } = await engine(backends[name], i);
      figures[name]!.up.push(up);
      figures[name]!.noChange.push(noChange);
      // The service's default is the Postgres backend ("" is unset).
      figures[name]!.create.push(await service(name === "file" ? backends.file.url : ""));
    }
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
for (const name of ["file", "postgres"] as const) {
  const f = figures[name]!;
  console.log(
    [
      `${name} backend:`,
      `  postgres-small pulumi up:        ${median(f.up).toFixed(1)} s`,
      `  postgres-small no-change up:     ${median(f.noChange).toFixed(1)} s`,
      `  small-storage create to ACTIVE:  ${median(f.create).toFixed(1)} s (through the service)`,
    ].join("\n"),
  );
}
