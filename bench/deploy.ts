// Deployment speed of the templates through Pulumi, against the physical
// baseline measured in the same run: the same rendered Compose project brought
// up by the same script (docker compose up -d + health wait) without Pulumi.
// Prints figures; asserts nothing. Run: npm run bench
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveImages } from "../components/images.js";
import { downScript, upScript } from "../components/model/deploy-script.js";
import { buildSystem, prepareRequest, type TemplateRequest } from "../components/templates/index.js";
import { testDeployment, testPorts } from "../test/deployment.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);

async function seconds(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The baseline: the rendered project and the same up/health script, run by sh directly. */
async function baseline(request: TemplateRequest): Promise<number> {
  const prepared = prepareRequest({ ...request, name: `${request.name}-base` });
  const secrets = Object.fromEntries(
    Object.entries(prepared.secretSizes).map(([name, bytes]) => [name, crypto.randomBytes(bytes).toString("hex")]),
  );
  const { model } = buildSystem(prepared, {
    ports: await testPorts(prepared.portNames),
    secrets,
    images: resolveImages(),
    publishIp: "127.0.0.1",
    publicHost: "127.0.0.1",
  });
  const projectsDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-baseline-"));
  const options = { projectsDir, healthTimeoutSeconds: 300 };
  const script = path.join(projectsDir, "up.sh");
  fs.writeFileSync(script, upScript(model, options));
  try {
    return await seconds(() => execFileSync("sh", [script, "create"], { stdio: "ignore" }));
  } finally {
    execFileSync("sh", ["-c", downScript(model.project, options)], { stdio: "ignore" });
    fs.rmSync(projectsDir, { recursive: true, force: true });
  }
}

async function throughPulumi(request: TemplateRequest) {
  const deployment = await testDeployment(request);
  const up = await seconds(() => deployment.up());
  const noChange = await seconds(() => deployment.up());
  const destroy = await seconds(() => deployment.destroy());
  return { up, noChange, destroy };
}

const requests: TemplateRequest[] = [
  { template: "ipfs-cluster-small", name: "benchipfs", team: "bench", resourceId: crypto.randomUUID(), options: { publicNetwork: false } },
  { template: "postgres-small", name: "benchpg", team: "bench", resourceId: crypto.randomUUID() },
];

// BENCH_TEMPLATES=ipfs-cluster-small: only those (comma-separated).
const only = process.env.BENCH_TEMPLATES?.split(",");
const selected = requests.filter((r) => !only || only.includes(r.template));

console.log(
  `runs per figure: ${runs} (median); machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0]!.toFixed(1)} (shared machine: compare figures of one run)`,
);
for (const request of selected) {
  const base: number[] = [];
  const pulumi: { up: number; noChange: number; destroy: number }[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await baseline(request));
    pulumi.push(await throughPulumi({ ...request, name: `${request.name}${i}` }));
  }
  const up = median(pulumi.map((p) => p.up));
  const b = median(base);
  console.log(
    [
      `${request.template}:`,
      `  baseline (compose up -d + health wait): ${b.toFixed(1)} s`,
      `  pulumi up to healthy:                   ${up.toFixed(1)} s  (ratio ${(up / b).toFixed(2)}x, goal <= 1.3x)`,
      `  no-change up:                           ${median(pulumi.map((p) => p.noChange)).toFixed(1)} s  (goal < 5 s)`,
      `  destroy:                                ${median(pulumi.map((p) => p.destroy)).toFixed(1)} s`,
    ].join("\n"),
  );
}
