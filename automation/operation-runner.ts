// Runs one operation of the queue against the resource's stack, reporting the
// deployment flow's stages as it goes, and leaves the resource in a clear
// state whatever happens: ACTIVE, FAILED (with the reason), or DELETED; never
// a locked stack. The stages, drift, cancel, recovery and error reporting each
// live in their own module; this one opens the stack and picks the outcome.
import { MissingKeyError } from "../core/credentials-cipher.js";
import { ResourceStatuses } from "../core/resource-status.js";
import type { Operation, Resource } from "../prisma/generated/client.js";
import { verifyEndpoint } from "./endpoint-check.js";
import { sweepDockerHost } from "./docker-sweep.js";
import { reportCancelled } from "./operation-cancel.js";
import { reportFailure } from "./operation-errors.js";
import { leaseLost } from "./operation-queue.js";
import { deploy, refresh, remove } from "./operation-stages.js";
import { PortAllocator } from "./port-allocator.js";
import { operationMarker } from "./process-killer.js";
import { pulumiStacks } from "./pulumi-stack.js";
import { Redactor } from "./redact.js";
import { resourceProgram, type ResourceSpec } from "./resource-program.js";
import type { Versions } from "../components/versions.js";
import { Flow, OutputTail } from "./run-flow.js";
import type { ResourceWithTeam, RunContext, RunnerDeps, RunResult, Scope } from "./run-scope.js";
import type { ResourceStack } from "./stack.js";
import { pulumiProject, stackName } from "./stack-names.js";
import { recoverStack } from "./stack-recovery.js";
import type { StackLocation } from "./workspace.js";

export { DriftDetected } from "./drift.js";
export { describeError } from "./operation-errors.js";
export type { ResourceWithTeam, RunContext, RunnerDeps, RunResult } from "./run-scope.js";
export { pulumiProject, stackName } from "./stack-names.js";

export class OperationRunner {
  private readonly deps: Scope["deps"];
  private readonly statuses: ResourceStatuses;

  constructor(deps: RunnerDeps) {
    this.deps = { verify: verifyEndpoint, sweep: sweepDockerHost, ...deps };
    this.statuses = new ResourceStatuses(deps.db);
  }

  async run(operation: Operation, context: RunContext): Promise<RunResult> {
    const scope = await this.scope(operation, context);
    try {
      switch (operation.kind) {
        case "CREATE":
        case "UPDATE":
          await deploy(scope);
          break;
        case "REFRESH":
          await refresh(scope);
          break;
        case "DELETE":
          await remove(scope);
          break;
      }
      return { status: "SUCCEEDED" };
    } catch (error) {
      await scope.flow.settled();
      // Fenced: another worker owns the operation now; the stack and the resource are its to touch.
      const lost = leaseLost(context.signal);
      if (lost) return { status: "FAILED", error: lost.message };
      return context.signal.aborted ? reportCancelled(scope) : reportFailure(scope, error);
    }
  }

  /** Gives up on an operation interrupted too often: the stack unlocked, the resource FAILED. */
  async abandon(operation: Operation, reason: string): Promise<RunResult> {
    const resource = await this.deps.db.resource.findUniqueOrThrow({ where: { id: operation.resourceId }, include: { team: true } });
    const held = await this.deps.db.portAllocation.findMany({ where: { resourceId: resource.id } });
    const stacks = this.deps.stacks ?? pulumiStacks;
    const program = resourceProgram(
      { ...this.specOf(resource), ports: Object.fromEntries(held.map((p) => [p.name, p.port])) },
      this.deps.host,
    );
    const stack = await stacks.find(this.stackLocation(resource, operation), program);
    if (stack) await recoverStack(stack);
    await this.statuses.markFailed(resource.id, reason);
    await new Flow(this.deps, resource.id, operation.id).stage("failed", reason);
    return { status: "FAILED", error: reason };
  }

  private async scope(operation: Operation, context: RunContext): Promise<Scope> {
    const { db, cipher, host } = this.deps;
    const resource = await db.resource.findUniqueOrThrow({ where: { id: operation.resourceId }, include: { team: true } });
    const flow = new Flow(this.deps, resource.id, operation.id);
    const redactor = new Redactor().add(Object.values(this.deps.backendEnv ?? {}));
    const log = this.deps.logger.child({ operationId: operation.id, resourceId: resource.id, kind: operation.kind });
    if (resource.credentialsCiphertext && resource.credentialsKeyId) {
      try {
        redactor.add(
          Object.values(cipher.open(resource.id, { keyId: resource.credentialsKeyId, ciphertext: resource.credentialsCiphertext })),
        );
      } catch (error) {
        // A key removed too early must not block operations (above all DELETE):
        // the engine's output is then redacted by the secrets' shape only.
        if (!(error instanceof MissingKeyError)) throw error;
        log.warn(
          { keyId: error.keyId },
          "the resource's credentials are sealed with a key not in PROVISIONER_CREDENTIALS_KEYS; redacting engine output by pattern only",
        );
      }
    }
    const stacks = this.deps.stacks ?? pulumiStacks;
    const location = this.stackLocation(resource, operation);
    const scope: Scope = {
      deps: this.deps,
      statuses: this.statuses,
      operation,
      resource,
      log,
      flow,
      redactor,
      output: new OutputTail(log, redactor),
      context,
      open: async (spec: ResourceSpec) => attach(await stacks.open(location, resourceProgram(spec, host))),
      find: async (spec: ResourceSpec) => {
        const found = await stacks.find(location, resourceProgram(spec, host));
        return found && attach(found);
      },
      ports: () => this.portsOf(resource),
      spec: () => this.specOf(resource),
    };
    const attach = async (stack: ResourceStack) => {
      scope.stack = stack;
      if (context.recovering) {
        const report = await recoverStack(stack);
        await flow.stage(
          "initialising",
          `recovered the stack after an interrupted run${report.clearedPending.length ? `: cleared ${report.clearedPending.join(", ")}` : ""}`,
        );
      }
      return stack;
    };
    return scope;
  }

  private stackLocation(resource: ResourceWithTeam, operation: Operation): StackLocation {
    return {
      projectName: pulumiProject,
      stackName: stackName(resource),
      backendUrl: this.deps.backendUrl,
      passphrase: this.deps.passphrase,
      pulumiCommand: this.deps.pulumiCommand,
      // Lets a forced cancel find every process of this operation.
      env: { ...this.deps.backendEnv, [operationMarker]: operation.id },
    };
  }

  private portsOf(resource: Resource): PortAllocator {
    return resource.target === "docker-host"
      ? this.deps.ports
      : new PortAllocator(this.deps.db, `${resource.target}:${resource.id}`, { remote: true });
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
      versions: resource.versions as Versions,
      ...(resource.restoreFrom ? { restoreFrom: resource.restoreFrom as NonNullable<ResourceSpec["restoreFrom"]> } : {}),
    };
  }
}
