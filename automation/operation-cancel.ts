// A run stopped on request: a forced stop can leave a lock and pending
// operations behind, so the stack is recovered; the resource is FAILED with a
// reason that says what to do next.
import { recoverStack } from "./stack-recovery.js";
import type { RunResult, Scope } from "./run-scope.js";

export async function reportCancelled({ stack, statuses, resource, flow, redactor, log, operation }: Scope): Promise<RunResult> {
  if (stack) {
    await recoverStack(stack).catch((e: unknown) => log.warn({ err: redactor.redact(String(e)) }, "stack recovery after cancel failed"));
  }
  const message = `cancelled: the ${operation.kind.toLowerCase()} was stopped on request; retry with PATCH or remove with DELETE`;
  await statuses.markFailed(resource.id, message);
  await flow.stage("cancelled", message);
  return { status: "CANCELLED", error: message };
}
