// What the runner needs of a resource's stack, and no more: the operations it
// runs and the state it reads. The Pulumi adapter (pulumi-stack.ts) is the one
// implementation in production; tests give the runner a scripted one.
import type { Deployment, EngineEvent, OpMap, PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { StackLocation } from "./workspace.js";

export interface EngineRun {
  signal?: AbortSignal;
  /** Recorded with the update in the stack's history. */
  message?: string;
  onOutput?: (chunk: string) => void;
  onEvent?: (event: EngineEvent) => void;
}

/** One entry of the stack's history, newest first. */
export interface StackUpdate {
  kind: string;
  startTime: Date;
  result?: string;
  message?: string;
}

export type StackOutputs = Record<string, { value: unknown } | undefined>;

export interface ResourceStack {
  readonly name: string;
  up(run: EngineRun): Promise<{ outputs: StackOutputs }>;
  preview(run: EngineRun): Promise<{ changeSummary: OpMap }>;
  refresh(run: EngineRun & { clearPendingCreates?: boolean }): Promise<unknown>;
  destroy(run: EngineRun): Promise<unknown>;
  history(pageSize: number, page: number): Promise<StackUpdate[]>;
  /** Stops an update in progress and releases the backend's lock. */
  cancel(): Promise<unknown>;
  exportStack(): Promise<Deployment>;
  importStack(state: Deployment): Promise<unknown>;
  /** Removes the (empty) stack from the backend. */
  remove(): Promise<void>;
}

export interface StackStore {
  /** The stack at this location, created if the backend has none. */
  open(location: StackLocation, program: PulumiFn): Promise<ResourceStack>;
  /** The stack if the backend has it: never creates one. */
  find(location: StackLocation, program: PulumiFn): Promise<ResourceStack | undefined>;
}
