// Deploying a template for real in tests and benchmarks: the TemplateSystem component in an
// inline Automation API program, file backend in a temp dir, local Docker host.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { openStack } from "../automation/workspace.js";
import { TemplateSystem, type TemplateSystemArgs } from "../components/template-system.js";
import { prepareRequest, type TemplateRequest } from "../components/templates/index.js";
import { allocatePorts, defaultPortRange } from "../components/templates/request.js";
import { portIsFree } from "../automation/port-allocator.js";
import { docker } from "./docker.js";

/** Ports for a test deployment: the allocator, skipping ports something on this machine holds. */
export async function testPorts(names: string[]): Promise<Record<string, number>> {
  const taken = new Set<number>();
  for (;;) {
    const ports = allocatePorts(names, taken, defaultPortRange);
    const busy: number[] = [];
    for (const port of Object.values(ports)) if (!(await portIsFree(port))) busy.push(port);
    if (busy.length === 0) return ports;
    busy.forEach((p) => taken.add(p));
  }
}

export interface TestDeployment {
  stack: Stack;
  project: string;
  args: TemplateSystemArgs;
  up(args?: Partial<TemplateSystemArgs>): Promise<{ endpoint: Record<string, string>; credentials: Record<string, string> }>;
  destroy(): Promise<void>;
  workDir: string;
}

/** A test resource gets a fresh id (its host-side names derive from it) unless it names one. */
export type TestRequest = Omit<TemplateRequest, "resourceId"> & { resourceId?: string };

/** `backend`: the Pulumi backend (default: a file backend in the deployment's temp dir); its env holds e.g. PGPASSWORD. */
export async function testDeployment(
  testRequest: TestRequest,
  overrides: Partial<TemplateSystemArgs> = {},
  backend?: { url: string; env: Record<string, string> },
): Promise<TestDeployment> {
  const request: TemplateRequest = { ...testRequest, resourceId: testRequest.resourceId ?? crypto.randomUUID() };
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `provisioner-${request.template}-`));
  fs.mkdirSync(path.join(workDir, "state"));
  const prepared = prepareRequest(request);
  let args: TemplateSystemArgs = {
    ...request,
    ports: await testPorts(prepared.portNames),
    // No publishIp: the component's default for this machine (127.0.0.1) is under test.
    target: { projectsDir: path.join(workDir, "projects"), backupsDir: path.join(workDir, "backups"), healthTimeoutSeconds: 240 },
    ...overrides,
  };
  const program = () => {
    const system = new TemplateSystem(request.name, args);
    return Promise.resolve({ endpoint: system.endpoint, credentials: system.credentials });
  };
  const stack = await openStack(
    {
      projectName: "provisioner-test",
      stackName: prepared.project,
      backendUrl: backend?.url ?? `file://${path.join(workDir, "state")}`,
      passphrase: "test-passphrase",
      env: backend?.env,
    },
    program,
  );
  return {
    stack,
    project: prepared.project,
    get args() {
      return args;
    },
    workDir,
    async up(changes) {
      args = { ...args, ...changes };
      const result = await stack.up();
      return {
        endpoint: result.outputs.endpoint!.value as Record<string, string>,
        credentials: result.outputs.credentials!.value as Record<string, string>,
      };
    },
    async destroy() {
      await stack.destroy();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Everything Docker still holds with the project's label. */
export async function leftovers(project: string): Promise<string[]> {
  const filter = `label=provisioner.project=${project}`;
  const lists = await Promise.all([
    docker("ps", "-aq", "--filter", filter),
    docker("volume", "ls", "-q", "--filter", filter),
    docker("network", "ls", "-q", "--filter", filter),
  ]);
  // A volume image still mounted (components/model/volume-quota.ts: mounts are named from the project).
  const mounts = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((line) => line.includes(`/${project}.volumes/`))
    .map((line) => `mount:${line.split(" ")[1]}`);
  return [...lists.flatMap((l) => l.split("\n")).filter(Boolean), ...mounts];
}
