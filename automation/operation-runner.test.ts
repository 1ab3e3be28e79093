// The runner's outcomes with a scripted stack (no engine, no Docker) against
// the real control-plane database: stages, drift, cancel, recovery, delete
// with and without a stack, and what the resource is left as.
import crypto from "node:crypto";
import type { Deployment, OpMap } from "@pulumi/pulumi/automation/index.js";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import type { ImageSet } from "../components/images.js";
import type { OperationKind, ResourceStatus } from "../prisma/generated/client.js";
import type { CloudSettings } from "../core/cloud-settings.js";
import { EventLog } from "../core/event-log.js";
import { OperationRunner, type RunResult } from "./operation-runner.js";
import { PortAllocator } from "./port-allocator.js";
import type { EngineRun, ResourceStack, StackStore, StackUpdate } from "./stack.js";
import { storedResource } from "../test/rows.js";

const db = createDatabase(process.env.DATABASE_URL!);
const teamIds: string[] = [];
afterAll(async () => {
  // The resources these runs left ACTIVE must not be probed by another test's health monitor.
  await db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
  await db.team.deleteMany({ where: { id: { in: teamIds } } });
  await db.$disconnect();
});

/** What a scripted stack does; everything unset succeeds with nothing to change. */
interface Script {
  /** The backend has no stack for the resource (find() answers undefined). */
  absent?: boolean;
  history?: StackUpdate[];
  changes?: OpMap;
  /** up() fails with this engine error. */
  upError?: string;
  /** up() runs until the operation is cancelled. */
  upHangs?: boolean;
  /** Left behind by an interrupted run. */
  pendingOperations?: { type: string; resource: { urn: string } }[];
}

class FakeStack implements ResourceStack {
  readonly name = "fake";
  readonly calls: string[] = [];
  state: Deployment;

  constructor(private readonly script: Script) {
    this.state = { version: 3, deployment: { resources: [{}, {}], pending_operations: script.pendingOperations ?? [] } };
  }

  async up(run: EngineRun) {
    this.calls.push(`up ${run.message}`);
    if (this.script.upHangs) {
      // As the engine's process: a signal aborted before `up` started (a slow machine) stops it at once too.
      await new Promise((_, reject) => {
        if (run.signal!.aborted) reject(new Error("stopped"));
        run.signal!.addEventListener("abort", () => reject(new Error("stopped")));
      });
    }
    if (this.script.upError) {
      run.onOutput?.(`error: ${this.script.upError}\n`);
      throw new Error(`Command failed with exit code 255: pulumi up\nerror: ${this.script.upError}`);
    }
    return { outputs: { endpoint: { value: { api: "http://127.0.0.1:1" } }, credentials: { value: { password: "s3cret-password" } } } };
  }
  async preview() {
    this.calls.push("preview");
    return { changeSummary: this.script.changes ?? { same: 3 } };
  }
  async refresh(run: EngineRun & { clearPendingCreates?: boolean }) {
    this.calls.push(run.clearPendingCreates ? "refresh (clearing pending creates)" : "refresh");
  }
  async destroy() {
    this.calls.push("destroy");
  }
  async history(pageSize: number) {
    return (this.script.history ?? []).slice(0, pageSize);
  }
  async cancel() {
    this.calls.push("cancel");
  }
  async exportStack() {
    return structuredClone(this.state);
  }
  async importStack(state: Deployment) {
    this.calls.push("import");
    this.state = state;
  }
  async remove() {
    this.calls.push("remove");
  }
}

const keyring = parseKeyring(generateKeyringSpec("runner-test"));

async function runOnce(
  kind: OperationKind,
  status: ResourceStatus,
  script: Script,
  {
    recovering = false,
    stackSeenAt = null as Date | null,
    cancelAfterMs = 0,
    credentials = undefined as Record<string, string> | undefined,
    resourceFields = {},
    hostCpus = undefined as number | undefined,
  } = {},
) {
  const cipher = new CredentialsCipher(keyring);
  const suffix = crypto.randomBytes(4).toString("hex");
  const team = await db.team.create({ data: { name: `runner-${suffix}` } });
  teamIds.push(team.id);
  const resource = await storedResource(db, team.id, { hostName: `runner-${suffix}`, status, stackSeenAt, ...resourceFields });
  if (credentials) {
    const sealed = cipher.seal(resource.id, credentials);
    await db.resource.update({
      where: { id: resource.id },
      data: { credentialsCiphertext: sealed.ciphertext, credentialsKeyId: sealed.keyId },
    });
  }
  const operation = await db.operation.create({ data: { resourceId: resource.id, kind } });
  const stack = new FakeStack(script);
  const stacks: StackStore = { open: async () => stack, find: async () => (script.absent ? undefined : stack) };
  const swept: string[] = [];
  const runner = new OperationRunner({
    db,
    events: new EventLog(db),
    cipher,
    ports: new PortAllocator(db, `runner-test-${suffix}`),
    logger: pino({ level: "silent" }),
    host: {
      projectsDir: "/nonexistent",
      publishIp: "127.0.0.1",
      publicHost: "127.0.0.1",
      images: {} as ImageSet,
      healthTimeoutSeconds: 1,
      cloud: {} as CloudSettings,
      cpus: hostCpus,
    },
    backendUrl: "file:///nonexistent",
    passphrase: "unused",
    stacks,
    verify: async () => undefined,
    sweep: async (project) => (swept.push(project), ["container:abc"]),
  });
  const controller = new AbortController();
  if (cancelAfterMs) setTimeout(() => controller.abort(), cancelAfterMs);
  const result: RunResult = await runner.run(operation, { signal: controller.signal, recovering });
  const after = await db.resource.findUniqueOrThrow({ where: { id: resource.id } });
  const events = await db.event.findMany({ where: { operationId: operation.id }, orderBy: { id: "asc" } });
  return {
    result,
    after,
    stack,
    swept,
    stages: events.map((e) => e.stage),
    messages: events.map((e) => e.message),
    operationId: operation.id,
    hostName: resource.hostName,
  };
}

const foreign: StackUpdate = {
  kind: "update",
  startTime: new Date("2030-01-01T00:00:00Z"),
  result: "succeeded",
  message: "manual fix by an engineer",
};
const ours: StackUpdate = {
  kind: "update",
  startTime: new Date("2029-01-01T00:00:00Z"),
  result: "succeeded",
  message: "provisioner: create x",
};
const seen = new Date("2029-06-01T00:00:00Z");

describe("the operation runner with a scripted stack", () => {
  it.each([
    {
      case: "a create that deploys ends ACTIVE through every stage",
      kind: "CREATE" as const,
      status: "PROVISIONING" as const,
      script: { changes: { create: 4 } },
      expected: {
        result: "SUCCEEDED",
        status: "ACTIVE",
        stages: ["initialising", "allocating", "configuring", "provisioning", "verifying", "complete"],
      },
    },
    {
      case: "a create the engine fails ends FAILED with its diagnostic, the command line dropped",
      kind: "CREATE" as const,
      status: "PROVISIONING" as const,
      script: { upError: "container r-ipfs is unhealthy" },
      expected: {
        result: "FAILED",
        status: "FAILED",
        lastError: /^error: container r-ipfs is unhealthy$/,
        stages: ["initialising", "allocating", "configuring", "provisioning", "failed"],
      },
    },
    {
      case: "an update of a stack changed outside the service is refused and the resource keeps its status",
      kind: "UPDATE" as const,
      status: "DEGRADED" as const,
      stackSeenAt: seen,
      script: { history: [foreign, ours] },
      expected: {
        result: "FAILED",
        status: "DEGRADED",
        lastError: /^drift: the stack has 1 update\(s\) made outside the service/,
        calls: [] as string[],
      },
    },
    {
      case: "an update after the service's own updates only goes ahead",
      kind: "UPDATE" as const,
      status: "ACTIVE" as const,
      stackSeenAt: seen,
      script: { history: [{ ...ours, startTime: new Date("2029-07-01T00:00:00Z") }] },
      expected: { result: "SUCCEEDED", status: "ACTIVE" },
    },
    {
      case: "a cancelled deploy is CANCELLED, its stack recovered, the resource FAILED saying what to do",
      kind: "UPDATE" as const,
      status: "ACTIVE" as const,
      cancelAfterMs: 300,
      script: { upHangs: true },
      expected: {
        result: "CANCELLED",
        status: "FAILED",
        lastError: /^cancelled: the update was stopped on request; retry with PATCH or remove with DELETE$/,
        stages: ["initialising", "allocating", "configuring", "provisioning", "cancelled"],
        recovered: true,
      },
    },
    {
      case: "a refresh that finds foreign updates records the drift and leaves the status",
      kind: "REFRESH" as const,
      status: "ACTIVE" as const,
      stackSeenAt: seen,
      script: { history: [foreign, ours], changes: { same: 2, update: 1 } },
      expected: {
        result: "SUCCEEDED",
        status: "ACTIVE",
        drift: { inSync: false, pendingChanges: { update: 1 } },
        message: /^drift: 1 update\(s\) made outside the service, 1 change\(s\) to bring it back$/,
      },
    },
    {
      case: "a delete destroys the stack, removes it and sweeps the host",
      kind: "DELETE" as const,
      status: "FAILED" as const,
      script: {},
      expected: {
        result: "SUCCEEDED",
        status: "DELETED",
        calls: ["destroy", "remove"],
        swept: true,
        message: /^DELETED; swept 1 Docker object\(s\) left outside the state$/,
      },
    },
    {
      case: "a delete without a stack still sweeps the host and ends DELETED",
      kind: "DELETE" as const,
      status: "FAILED" as const,
      script: { absent: true },
      expected: {
        result: "SUCCEEDED",
        status: "DELETED",
        calls: [] as string[],
        swept: true,
        message: /^DELETED \(there was no stack\); swept 1/,
      },
    },
  ])("$case", async ({ kind, status, script, stackSeenAt, cancelAfterMs, expected }) => {
    const run = await runOnce(kind, status, script, { stackSeenAt: stackSeenAt ?? null, cancelAfterMs });
    expect(run.result.status).toBe(expected.result);
    expect(run.after.status).toBe(expected.status);
    if ("lastError" in expected) expect(run.after.lastError).toMatch(expected.lastError!);
    if ("stages" in expected) expect(run.stages).toEqual(expected.stages);
    if ("calls" in expected) expect(run.stack.calls.filter((c) => !c.startsWith("preview"))).toEqual(expected.calls);
    if ("recovered" in expected) expect(run.stack.calls).toEqual(expect.arrayContaining(["cancel", "refresh (clearing pending creates)"]));
    if ("drift" in expected) expect(run.after.drift).toMatchObject(expected.drift!);
    if ("swept" in expected) expect(run.swept).toEqual([run.hostName]);
    if ("message" in expected) expect(run.messages.at(-1)).toMatch(expected.message!);
  });

  it("a deploy records its updates as the service's own and seals the credentials, never storing them in clear", async () => {
    const run = await runOnce("CREATE", "PROVISIONING", { changes: { create: 2 } });
    expect(run.stack.calls).toEqual(["preview", `up provisioner: create ${run.operationId}`]);
    expect(run.after.credentialsCiphertext).not.toBeNull();
    expect(JSON.stringify(run.after)).not.toContain("s3cret-password");
    expect(run.after.endpoint).toEqual({ api: "http://127.0.0.1:1" });
  });

  it("a deploy on a Docker host with fewer CPUs than the size asks records the cap in the configuration", async () => {
    const run = await runOnce(
      "CREATE",
      "PROVISIONING",
      { changes: { create: 2 } },
      { resourceFields: { template: "postgres-small", size: "medium" }, hostCpus: 2 },
    );
    expect(run.result.status).toBe("SUCCEEDED");
    expect((run.after.configuration as { limits: unknown }).limits).toEqual({
      cpus: 2,
      memoryMb: 8192,
      storageGb: 25,
      requested: 4,
      capped: "host has 2 CPUs",
    });
    const roomy = await runOnce(
      "CREATE",
      "PROVISIONING",
      { changes: { create: 2 } },
      { resourceFields: { template: "postgres-small", size: "small" }, hostCpus: 2 },
    );
    expect((roomy.after.configuration as { limits: unknown }).limits).toEqual({ cpus: 2, memoryMb: 4096, storageGb: 10 });
  });

  it("an interrupted run recovers the stack first: the lock released and pending operations cleared, then it deploys", async () => {
    const pending = [{ type: "creating", resource: { urn: "urn:pulumi:s::provisioner::command:local:Command::r-deploy" } }];
    const run = await runOnce("CREATE", "PROVISIONING", { pendingOperations: pending }, { recovering: true });
    expect(run.result.status).toBe("SUCCEEDED");
    expect(run.stack.calls.slice(0, 3)).toEqual(["cancel", "import", "refresh (clearing pending creates)"]);
    expect((run.stack.state.deployment as { pending_operations: unknown[] }).pending_operations).toEqual([]);
    expect(run.messages).toContain("recovered the stack after an interrupted run: cleared creating r-deploy");
  });

  it("a failure message never carries a credential of the resource the engine printed", async () => {
    const run = await runOnce(
      "UPDATE",
      "ACTIVE",
      { upError: "auth failed for password s3cret-password" },
      { credentials: { password: "s3cret-password" } },
    );
    expect(run.after.lastError).toMatch(/^error: auth failed for password /);
    expect(run.after.lastError).not.toContain("s3cret-password");
  });
});
