// Runs one operation of the queue against the resource's Pulumi stack,
// reporting the deployment flow's stages as it goes, and leaves the resource
// in a clear state whatever happens: ACTIVE, FAILED (with the reason), or
// DELETED; never a locked stack.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { PulumiCommand, Stack } from "@pulumi/pulumi/automation/index.js";
import type { Logger } from "pino";
import type { CredentialsCipher } from "../api/credentials-cipher.js";
import type { Database } from "../api/db.js";
import { projectLabel } from "../components/model/compose.js";
import { downScript } from "../components/model/deploy-script.js";
import { prepareRequest } from "../components/templates/index.js";
import { ResourceStatuses } from "../core/resource-status.js";
import { Prisma, type Operation, type Resource, type Team } from "../prisma/generated/client.js";
import { verifyEndpoint } from "./endpoint-check.js";
import { changedSteps, engineProgress } from "./engine-progress.js";
import { stages, type EventLog, type Stage } from "./event-log.js";
import { PortAllocator } from "./port-allocator.js";
import { operationMarker } from "./process-killer.js";
import { Redactor } from "./redact.js";
import { resourceProgram, type DockerHostSettings, type ResourceSpec } from "./resource-program.js";
import { recoverStack } from "./stack-recovery.js";
import { findStack, openStack, type StackLocation } from "./workspace.js";

const execFileAsync = promisify(execFile);

export const pulumiProject = "provisioner";
/** Stack versions the service makes carry this message; any other is someone else's. */
const servicePrefix = "provisioner:";

export type ResourceWithTeam = Resource & { team: Team };

/** A readable, unique stack name: engineers find a resource's stack by it. */
export const stackName = (resource: ResourceWithTeam) => `${resource.team.name}-${resource.name}-${resource.id.slice(0, 8)}`;

export interface RunnerDeps {
  db: Database;
  events: EventLog;
  cipher: CredentialsCipher;
  /** Ports on this machine's Docker host; a cloud resource's server is its own. */
  ports: PortAllocator;
  logger: Logger;
  host: DockerHostSettings;
  backendUrl: string;
  passphrase: string;
  pulumiCommand?: PulumiCommand;
}

export interface RunContext {
  signal: AbortSignal;
  /** The operation was interrupted before (its worker died): recover the stack first. */
  recovering: boolean;
}

export interface RunResult {
  status: "SUCCEEDED" | "FAILED" | "CANCELLED";
  error?: string;
}

/** Someone ran `pulumi up` (or another command) on the stack outside the service. */
export class DriftDetected extends Error {}

interface UpdateParams {
  size?: string;
  options?: unknown;
}

/** Stage reporting: an Event row and the resource's stage/progress. */
class Flow {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: RunnerDeps,
    private readonly resourceId: string,
    private readonly operationId: string,
  ) {}

  /** `progress` defaults to where the stage starts; "failed" and "cancelled" leave it as it was. */
  async stage(stage: Stage, message: string, progress: number | undefined = stages[stage as keyof typeof stages], detail?: Record<string, unknown>) {
    await this.settled();
    await this.record(stage, message, progress, detail);
  }

  /** From a synchronous engine callback: queued, in order. */
  later(stage: Stage, message: string, progress: number, detail?: Record<string, unknown>) {
    this.chain = this.chain.then(() => this.record(stage, message, progress, detail)).catch(() => undefined);
  }

  private async record(stage: Stage, message: string, progress: number | undefined, detail?: Record<string, unknown>) {
    await this.deps.events.record({ resourceId: this.resourceId, operationId: this.operationId, stage, progress: progress ?? 0, message, detail });
    if (progress !== undefined) await this.deps.db.resource.update({ where: { id: this.resourceId }, data: { stage, progress: Math.round(progress) } });
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

/** Everything one run of an operation works with. */
interface Scope {
  operation: Operation;
  resource: ResourceWithTeam;
  flow: Flow;
  redactor: Redactor;
  output: OutputTail;
  context: RunContext;
  /** Opens the resource's stack with this spec (recovering it first after an interruption). */
  open: (spec: ResourceSpec) => Promise<Stack>;
  /** The same, but only if the backend has the stack: never creates one. */
  find: (spec: ResourceSpec) => Promise<Stack | undefined>;
}

export class OperationRunner {
  private readonly statuses: ResourceStatuses;

  constructor(private readonly deps: RunnerDeps) {
    this.statuses = new ResourceStatuses(deps.db);
  }

  async run(operation: Operation, context: RunContext): Promise<RunResult> {
    const { db } = this.deps;
    const resource = await db.resource.findUniqueOrThrow({ where: { id: operation.resourceId }, include: { team: true } });
    const flow = new Flow(this.deps, resource.id, operation.id);
    const redactor = new Redactor();
    if (resource.credentialsCiphertext && resource.credentialsKeyId) {
      redactor.add(Object.values(this.deps.cipher.open(resource.id, { keyId: resource.credentialsKeyId, ciphertext: resource.credentialsCiphertext })));
    }
    const log = this.deps.logger.child({ operationId: operation.id, resourceId: resource.id, kind: operation.kind });
    const output = new OutputTail(log, redactor);
    let stack: Stack | undefined;
    const attach = async (opened: Stack) => {
      stack = opened;
      if (context.recovering) {
        const report = await recoverStack(stack);
        await flow.stage("initialising", `recovered the stack after an interrupted run${report.clearedPending.length ? `: cleared ${report.clearedPending.join(", ")}` : ""}`);
      }
      return stack;
    };
    const open = async (spec: ResourceSpec) => attach(await openStack(this.stackLocation(resource, operation), resourceProgram(spec, this.deps.host)));
    const find = async (spec: ResourceSpec) => {
      const found = await findStack(this.stackLocation(resource, operation), resourceProgram(spec, this.deps.host));
      return found && attach(found);
    };
    const scope: Scope = { operation, resource, flow, redactor, output, context, open, find };
    try {
      switch (operation.kind) {
        case "CREATE":
        case "UPDATE":
          await this.deploy(scope);
          break;
        case "REFRESH":
          await this.refresh(scope);
          break;
        case "DELETE":
          await this.remove(scope);
          break;
      }
      return { status: "SUCCEEDED" };
    } catch (error) {
      await flow.settled();
      if (context.signal.aborted) {
        // A forced stop can leave a lock and pending operations behind.
        if (stack) await recoverStack(stack).catch((e: unknown) => log.warn({ err: redactor.redact(String(e)) }, "stack recovery after cancel failed"));
        const message = `cancelled: the ${operation.kind.toLowerCase()} was stopped on request; retry with PATCH or remove with DELETE`;
        await this.statuses.markFailed(resource.id, message);
        await flow.stage("cancelled", message);
        return { status: "CANCELLED", error: message };
      }
      const message = redactor.redact(describeError(error, output.errorLines()));
      if (error instanceof DriftDetected) {
        // The running system is untouched: the resource goes back to its status before the operation.
        await this.statuses.restore(resource.id, resource.status, message);
      } else {
        await this.statuses.markFailed(resource.id, message);
      }
      await flow.stage("failed", message);
      log.warn({ error: message }, "operation failed");
      return { status: "FAILED", error: message };
    }
  }

  /** Gives up on an operation interrupted too often: the stack unlocked, the resource FAILED. */
  async abandon(operation: Operation, reason: string): Promise<RunResult> {
    const resource = await this.deps.db.resource.findUniqueOrThrow({ where: { id: operation.resourceId }, include: { team: true } });
    const held = await this.deps.db.portAllocation.findMany({ where: { resourceId: resource.id } });
    const stack = await findStack(this.stackLocation(resource, operation), resourceProgram({ ...this.specOf(resource), ports: Object.fromEntries(held.map((p) => [p.name, p.port])) }, this.deps.host));
    if (stack) await recoverStack(stack);
    await this.statuses.markFailed(resource.id, reason);
    await new Flow(this.deps, resource.id, operation.id).stage("failed", reason);
    return { status: "FAILED", error: reason };
  }

  private stackLocation(resource: ResourceWithTeam, operation: Operation): StackLocation {
    return {
      projectName: pulumiProject,
      stackName: stackName(resource),
      backendUrl: this.deps.backendUrl,
      passphrase: this.deps.passphrase,
      pulumiCommand: this.deps.pulumiCommand,
      // Lets a forced cancel find every process of this operation.
      env: { [operationMarker]: operation.id },
    };
  }

  private async deploy({ operation, resource, flow, redactor, output, context, open }: Scope) {
    const params = operation.params as UpdateParams;
    const size = params.size ?? resource.size;
    const options = params.options ?? resource.options;
    const prepared = prepareRequest({ ...this.specOf(resource), size, options });
    await (operation.kind === "CREATE" ? this.statuses.markProvisioning(resource.id) : this.statuses.markUpdating(resource.id));
    await flow.stage("initialising", operation.kind === "CREATE" ? "provisioning started" : "update started");

    await flow.stage("allocating", `allocating ${prepared.portNames.length} host ports`);
    const ports = await this.portsOf(resource).ensure(resource.id, prepared.portNames);

    await flow.stage("configuring", "planning the changes");
    const spec: ResourceSpec = { ...this.specOf(resource), size: prepared.size, options: prepared.options, ports };
    const stack = await open(spec);
    await this.refuseForeignChanges(stack, resource);
    const preview = await stack.preview({ signal: context.signal, onOutput: output.add });
    const total = changedSteps(preview.changeSummary);

    await flow.stage("provisioning", `applying ${total} changes`, undefined, { done: 0, total });
    const span = stages.verifying - stages.provisioning;
    const result = await stack.up({
      signal: context.signal,
      message: `${servicePrefix} ${operation.kind.toLowerCase()} ${operation.id}`,
      onOutput: output.add,
      onEvent: engineProgress(total, ({ done, total: all, step }) =>
        flow.later("provisioning", `${done} of ${all} resources done (${step})`, stages.provisioning + (span * done) / all, { done, total: all }),
      ),
    });
    await flow.settled();

    await flow.stage("verifying", "checking the endpoint answers");
    const endpoint = result.outputs.endpoint?.value as Record<string, string>;
    const credentials = result.outputs.credentials?.value as Record<string, string>;
    redactor.add(Object.values(credentials));
    await verifyEndpoint(endpoint);
    const sealed = this.deps.cipher.seal(resource.id, credentials);
    await this.statuses.markActive(resource.id, {
        size: prepared.size,
        options: prepared.options as Prisma.InputJsonValue,
        endpoint,
        credentialsCiphertext: sealed.ciphertext,
        credentialsKeyId: sealed.keyId,
        configuration: { template: resource.template, size: prepared.size, options: prepared.options, ports, images: this.deps.host.images, stack: stackName(resource), project: resource.hostName } as Prisma.InputJsonValue,
        stackSeenAt: await this.latestUpdate(stack),
    });
    // A smaller system (fewer peers) needs fewer ports.
    await this.portsOf(resource).release(resource.id, prepared.portNames);
    await flow.stage("complete", "ACTIVE");
  }

  private async refresh({ operation, resource, flow, output, context, open }: Scope) {
    await flow.stage("initialising", "drift check started");
    const ports = await this.portsOf(resource).ensure(resource.id, prepareRequest(this.specOf(resource)).portNames);
    const stack = await open({ ...this.specOf(resource), ports });
    await flow.stage("configuring", "reading the stack's history and refreshing its state");
    const foreign = await this.foreignUpdates(stack, resource);
    await stack.refresh({ signal: context.signal, message: `${servicePrefix} refresh ${operation.id}`, onOutput: output.add });
    await flow.stage("verifying", "comparing with what the service deployed");
    const preview = await stack.preview({ signal: context.signal, onOutput: output.add });
    const pending = Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same"));
    const inSync = foreign.length === 0 && changedSteps(preview.changeSummary) === 0;
    const drift = { checkedAt: new Date().toISOString(), inSync, foreignUpdates: foreign, pendingChanges: pending };
    await this.deps.db.resource.update({
      where: { id: resource.id },
      // The check makes the foreign versions known: later operations may proceed.
      data: { drift, stackSeenAt: await this.latestUpdate(stack) },
    });
    await flow.stage("complete", inSync ? "no drift" : `drift: ${foreign.length} update(s) made outside the service, ${changedSteps(preview.changeSummary)} change(s) to bring it back`, undefined, drift);
  }

  private async remove({ operation, resource, flow, output, context, find }: Scope) {
    const { db } = this.deps;
    await this.statuses.markDeleting(resource.id);
    await flow.stage("initialising", "deletion started");
    const held = await db.portAllocation.findMany({ where: { resourceId: resource.id } });
    // A create that failed before its stack existed leaves none: the sweep below still removes what it started.
    const stack = await find({ ...this.specOf(resource), ports: Object.fromEntries(held.map((p) => [p.name, p.port])) });
    if (stack) {
      await flow.stage("provisioning", "destroying");
      const state = await stack.exportStack();
      const total = (state.deployment as { resources?: unknown[] } | undefined)?.resources?.length ?? 0;
      const span = stages.verifying - stages.provisioning;
      await stack.destroy({
        signal: context.signal,
        message: `${servicePrefix} delete ${operation.id}`,
        onOutput: output.add,
        onEvent: engineProgress(total, ({ done, total: all, step }) => flow.later("provisioning", `${done} of ${all} resources removed (${step})`, stages.provisioning + (span * done) / all, { done, total: all })),
      });
      await flow.settled();
    } else {
      await flow.stage("provisioning", "the Pulumi backend has no stack for this resource: nothing was deployed through it");
    }
    await flow.stage("verifying", "removing anything left with the resource's label");
    // Catches what an interrupted create started but never recorded in the state
    // (on a cloud, the server itself goes with the stack).
    const swept = resource.target === "docker-host" ? await sweepDockerHost(resource.hostName, this.deps.host.projectsDir) : undefined;
    if (stack) await stack.workspace.removeStack(stack.name);
    await this.portsOf(resource).release(resource.id);
    await this.statuses.markDeleted(resource.id);
    const found = swept && swept.length ? `; swept ${swept.length} Docker object(s) left outside the state` : "";
    await flow.stage("complete", `DELETED${stack ? "" : " (there was no stack)"}${found}`, undefined, { stack: stack ? "destroyed" : "absent", swept: swept ?? [] });
  }

  private portsOf(resource: Resource): PortAllocator {
    return resource.target === "docker-host" ? this.deps.ports : new PortAllocator(this.deps.db, `${resource.target}:${resource.id}`, { remote: true });
  }

  private specOf(resource: ResourceWithTeam): Omit<ResourceSpec, "ports"> {
    return {
      target: resource.target,
      team: resource.team.name,
      name: resource.name,
      resourceId: resource.id,
      hostName: resource.hostName,
      template: resource.template,
      size: resource.size,
      options: resource.options,
    };
  }

  /** Stack updates newer than the last the service knows of, not made by the service. */
  private async foreignUpdates(stack: Stack, resource: Resource) {
    const seen = resource.stackSeenAt?.getTime() ?? 0;
    const history = await stack.history(50, 1, false);
    return history
      .filter((h) => h.startTime.getTime() > seen && !h.message?.startsWith(servicePrefix))
      .map((h) => ({ kind: h.kind, startTime: h.startTime, result: h.result, message: h.message }));
  }

  /** When the stack's newest update started. */
  private async latestUpdate(stack: Stack): Promise<Date | undefined> {
    return (await stack.history(1, 1, false))[0]?.startTime;
  }

  private async refuseForeignChanges(stack: Stack, resource: Resource) {
    if (resource.stackSeenAt === null) return;
    const foreign = await this.foreignUpdates(stack, resource);
    if (foreign.length === 0) return;
    const drift = { checkedAt: new Date().toISOString(), inSync: false, foreignUpdates: foreign };
    await this.deps.db.resource.update({ where: { id: resource.id }, data: { drift } });
    throw new DriftDetected(
      `drift: the stack has ${foreign.length} update(s) made outside the service (latest at ${foreign[0]!.startTime.toISOString()}); ` +
        "POST /v1/resources/{id}/refresh to review them before changing the resource",
    );
  }

}

/** Removes the project and whatever carries its label from this Docker host; returns what was there (`container:<id>`, ...). */
async function sweepDockerHost(project: string, projectsDir: string): Promise<string[]> {
  const filter = `label=${projectLabel}=${project}`;
  const list = async (kind: string, args: string[]) =>
    (await execFileAsync("docker", [...args, "--filter", filter])).stdout.split("\n").filter(Boolean).map((id) => `${kind}:${id.slice(0, 12)}`);
  const found = [...(await list("container", ["ps", "-aq"])), ...(await list("volume", ["volume", "ls", "-q"])), ...(await list("network", ["network", "ls", "-q"]))];
  await execFileAsync("sh", ["-c", downScript(project, { projectsDir })]);
  return found;
}

/** The engine's last lines, redacted: logged at debug, quoted in errors. */
class OutputTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly log: Logger,
    private readonly redactor: Redactor,
  ) {}

  add = (chunk: string) => {
    for (const line of chunk.split("\n")) {
      if (!line.trim()) continue;
      const clean = this.redactor.redact(line);
      this.log.debug({ engine: clean });
      this.lines.push(clean);
      if (this.lines.length > 40) this.lines.shift();
    }
  };

  errorLines(): string[] {
    return this.lines.filter((l) => /error|failed|unhealthy/i.test(l)).slice(-8);
  }
}

/** A short, readable reason from an engine error and the engine's last lines (redacted by the caller). */
export function describeError(error: unknown, engineLines: string[]): string {
  if (error instanceof DriftDetected) return error.message;
  const text = error instanceof Error ? error.message : String(error);
  // The CLI's stderr holds the diagnostic; the first lines of a CommandError are its command line.
  const diagnostics = text
    .split("\n")
    .map((l) => l.trim())
    // The CLI's own command line and its per-resource progress rows repeat what the diagnostics say.
    .filter((l) => !/Command failed with exit code|^err\?:|^[+~-] /.test(l))
    .filter((l) => /error:|failed|unhealthy|not reachable/i.test(l));
  const lines = [...new Set([...diagnostics, ...engineLines])].slice(0, 10);
  return (lines.length ? lines.join("\n") : text).slice(0, 2000);
}
