// "n of m resources done" inside the provisioning stage: m comes from the
// preview's change summary, n from the engine's step-completed events.
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation/index.js";

/** Resource steps that change something (everything but "same"). */
export function changedSteps(summary: OpMap | undefined): number {
  return Object.entries(summary ?? {}).reduce((sum, [op, count]) => (op === "same" ? sum : sum + (count ?? 0)), 0);
}

export interface StepDone {
  done: number;
  total: number;
  /** e.g. "create command:local:Command web-deploy" */
  step: string;
}

export function engineProgress(total: number, report: (step: StepDone) => void): (event: EngineEvent) => void {
  let done = 0;
  return (event) => {
    const step = event.resOutputsEvent?.metadata;
    if (!step || step.op === "same") return;
    done++;
    // The plan can grow while the program runs (outputs known only at apply time).
    report({ done, total: Math.max(total, done), step: `${step.op} ${step.type} ${step.urn.split("::").pop()}` });
  };
}
