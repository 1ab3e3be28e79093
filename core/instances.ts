// Which service instance runs what: the operations RUNNING now, by the instance
// that took them (operations.ran_by). Read from the shared database, so any
// instance's /readyz and /metrics tell the same story for all of them.
import type { Database } from "./db.js";

export interface InstanceLoad {
  instance: string;
  kind: string;
  running: number;
}

export async function runningByInstance(db: Database): Promise<InstanceLoad[]> {
  const groups = await db.operation.groupBy({ by: ["ranBy", "kind"], where: { status: "RUNNING" }, _count: { _all: true } });
  return groups.map((g) => ({ instance: g.ranBy ?? "unknown", kind: g.kind, running: g._count._all }));
}

/** /readyz's view: this instance, and every instance's running operations by kind. */
export async function instancesView(
  db: Database,
  self: { instanceId: string; dockerHostId: string },
): Promise<{ instance: { id: string; dockerHostId: string }; running: Record<string, Record<string, number>> }> {
  const running: Record<string, Record<string, number>> = {};
  for (const { instance, kind, running: n } of await runningByInstance(db)) (running[instance] ??= {})[kind] = n;
  return { instance: { id: self.instanceId, dockerHostId: self.dockerHostId }, running };
}
