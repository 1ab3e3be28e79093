// What one run of an operation works with, shared by the runner's modules.
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import type { Logger } from "pino";
import type { CredentialsCipher } from "../core/credentials-cipher.js";
import type { Database } from "../core/db.js";
import type { ResourceStatuses } from "../core/resource-status.js";
import type { Operation, Resource, Team } from "../prisma/generated/client.js";
import type { EventLog } from "../core/event-log.js";
import type { PortAllocator } from "./port-allocator.js";
import type { Redactor } from "./redact.js";
import type { DockerHostSettings, ResourceSpec } from "./resource-program.js";
import type { Flow, OutputTail } from "./run-flow.js";
import type { ResourceStack, StackStore } from "./stack.js";

export type ResourceWithTeam = Resource & { team: Team };

export interface RunnerDeps {
  db: Database;
  events: EventLog;
  cipher: CredentialsCipher;
  /** Ports on this machine's Docker host; a cloud resource's server is its own. */
  ports: PortAllocator;
  logger: Logger;
  host: DockerHostSettings;
  backendUrl: string;
  /** The backend's environment for the CLI (PGPASSWORD), redacted from whatever the engine prints. */
  backendEnv?: Record<string, string>;
  passphrase: string;
  pulumiCommand?: PulumiCommand;
  /** Where stacks come from; default: the Pulumi Automation API. */
  stacks?: StackStore;
  /** The verifying stage; default: every published address accepts connections. */
  verify?: (endpoint: Record<string, string>) => Promise<void>;
  /** A delete's last step on this machine's Docker host; default: remove what carries the project's label. */
  sweep?: (project: string, projectsDir: string) => Promise<string[]>;
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

export interface Scope {
  deps: Required<Pick<RunnerDeps, "verify" | "sweep">> & RunnerDeps;
  statuses: ResourceStatuses;
  operation: Operation;
  resource: ResourceWithTeam;
  /** The worker's logger, naming the operation, resource and kind. */
  log: Logger;
  flow: Flow;
  redactor: Redactor;
  output: OutputTail;
  context: RunContext;
  /** The stack once opened (recovery after a cancel needs it). */
  stack?: ResourceStack;
  /** Opens the resource's stack with this spec (recovering it first after an interruption). */
  open: (spec: ResourceSpec) => Promise<ResourceStack>;
  /** The same, but only if the backend has the stack: never creates one. */
  find: (spec: ResourceSpec) => Promise<ResourceStack | undefined>;
  /** Where the resource's ports come from: this host's table, or the cloud server's own. */
  ports: () => PortAllocator;
  /** The resource as its program's spec, without ports. */
  spec: () => Omit<ResourceSpec, "ports">;
}
