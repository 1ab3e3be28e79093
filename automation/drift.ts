// Drift: stack updates made outside the service. The service's own updates
// carry `servicePrefix` in their message; any newer update without it is
// someone else's (self-managed backends number no versions, so time decides).
import type { Resource } from "../prisma/generated/client.js";
import type { ResourceStack, StackUpdate } from "./stack.js";

/** Stack versions the service makes carry this message; any other is someone else's. */
export const servicePrefix = "provisioner:";

export const serviceMessage = (kind: string, operationId: string) => `${servicePrefix} ${kind} ${operationId}`;

/** Someone ran `pulumi up` (or another command) on the stack outside the service. */
export class DriftDetected extends Error {}

export type ForeignUpdate = Pick<StackUpdate, "kind" | "startTime" | "result" | "message">;

/** Stack updates newer than the last the service knows of, not made by the service. */
export async function foreignUpdates(stack: ResourceStack, resource: Pick<Resource, "stackSeenAt">): Promise<ForeignUpdate[]> {
  const seen = resource.stackSeenAt?.getTime() ?? 0;
  const history = await stack.history(50, 1);
  return history
    .filter((h) => h.startTime.getTime() > seen && !h.message?.startsWith(servicePrefix))
    .map((h) => ({ kind: h.kind, startTime: h.startTime, result: h.result, message: h.message }));
}

/** When the stack's newest update started. */
export async function latestUpdate(stack: ResourceStack): Promise<Date | undefined> {
  return (await stack.history(1, 1))[0]?.startTime;
}

/**
 * Before a change: refuses it when the stack has updates the service did not
 * make (a resource never deployed has nothing to compare with). Returns the
 * drift to record, and throws DriftDetected after `record` stored it.
 */
export async function refuseForeignChanges(
  stack: ResourceStack,
  resource: Pick<Resource, "stackSeenAt">,
  record: (drift: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  if (resource.stackSeenAt === null) return;
  const foreign = await foreignUpdates(stack, resource);
  if (foreign.length === 0) return;
  await record({ checkedAt: new Date().toISOString(), inSync: false, foreignUpdates: foreign });
  throw new DriftDetected(
    `drift: the stack has ${foreign.length} update(s) made outside the service (latest at ${foreign[0]!.startTime.toISOString()}); ` +
      "POST /v1/resources/{id}/refresh to review them before changing the resource",
  );
}
