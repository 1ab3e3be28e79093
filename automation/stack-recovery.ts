// After a crash or a forced stop, a stack can keep a lock and pending
// operations that would make every later update fail. This clears both, then
// refreshes so the state matches what is really running.
import type { ResourceStack } from "./stack.js";

export interface RecoveryReport {
  /** Operations the interrupted run had started but not recorded as done. */
  clearedPending: string[];
}

export async function recoverStack(
  stack: Pick<ResourceStack, "cancel" | "exportStack" | "importStack" | "refresh">,
): Promise<RecoveryReport> {
  // `pulumi cancel` deletes the self-managed backend's lock file (pulumi/pulumi#9100).
  await stack.cancel().catch(() => undefined);
  const state = await stack.exportStack();
  const deployment = state.deployment as { pending_operations?: { type: string; resource: { urn: string } }[] } | undefined;
  const pending = deployment?.pending_operations ?? [];
  if (pending.length > 0) {
    // A pending create may have left something running outside the state; the
    // resumed operation (or the delete sweep) converges it, since every
    // container carries the project's label and Compose adopts its own.
    deployment!.pending_operations = [];
    await stack.importStack(state);
  }
  await stack.refresh({ clearPendingCreates: true });
  return { clearedPending: pending.map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`) };
}
