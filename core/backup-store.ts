// Reads a resource's backup store on the local Docker host (the layout the
// backup sidecar writes: components/templates/postgres-backup.ts; a Kubernetes
// database's store is copied here in the same layout), and asks for an
// on-demand backup. The one reader of the store for the API and the health
// rounds; only the sidecar writes backups, only the retention job removes stores.
import fs from "node:fs";
import path from "node:path";

export interface StoredBackup {
  /** The backup's id within its store: `dumps/<stamp>.dump` or `base/<stamp>`. */
  id: string;
  kind: "dump" | "base";
  takenAt: string;
  sizeBytes: number;
  /** Dumps: listed by pg_restore; base backups: both archives read and a start WAL found. */
  verified: boolean;
  /** first, scheduled, on-demand, before-upgrade, final (before a DELETE). */
  reason?: string;
}

export interface BackupState {
  backups: StoredBackup[];
  lastSuccessAt: Date | null;
  /** The last attempt's failure, when it is newer than the last success. */
  lastFailure: { at: Date; message: string } | null;
  archiverFailure: { at: Date; message: string } | null;
  /** Failed attempts the sidecar counted since the store was made. */
  failures: number;
  /** Point-in-time recovery: from the oldest base backup's end to the last archived WAL. */
  restorableRange: { from: string; to: string } | null;
}

/**
 * Whether this machine keeps the resource's backup store: a database on this
 * Docker host (the folder its sidecar writes), or on Kubernetes (the copy
 * the control plane keeps of its store in the cluster:
 * automation/kubernetes-backups.ts). Another Docker host's store is not here.
 */
export function storeKeptHere(
  resource: { template: string; target: string; dockerHostId: string | null },
  dockerHostId: string | undefined,
): boolean {
  if (!resource.template.startsWith("postgres-")) return false;
  if (resource.target === "kubernetes") return true;
  return resource.target === "docker-host" && !(dockerHostId && resource.dockerHostId && resource.dockerHostId !== dockerHostId);
}

/** The targets whose databases have a store this machine reads (storeKeptHere), for queries. */
export const storeTargets = ["docker-host", "kubernetes"];

export function storeDir(backupsDir: string, hostName: string): string {
  return path.join(backupsDir, hostName);
}

const read = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
};

const epoch = (value: string | undefined) => (value && /^\d+$/.test(value) ? new Date(Number(value) * 1000) : null);

function timedMessage(line: string | undefined): { at: Date; message: string } | null {
  const match = line?.match(/^(\d+) (.*)$/s);
  return match ? { at: new Date(Number(match[1]) * 1000), message: match[2]! } : null;
}

function metadata(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** What the store holds, newest first. A store that does not exist is empty (no backup yet). */
export function readBackupStore(dir: string): BackupState {
  const backups: StoredBackup[] = [];
  const list = (sub: string) => {
    try {
      return fs.readdirSync(path.join(dir, sub));
    } catch {
      return [];
    }
  };
  for (const name of list("dumps").filter((f) => f.endsWith(".dump.json"))) {
    const meta = metadata(path.join(dir, "dumps", name));
    if (!meta || typeof meta.file !== "string") continue;
    backups.push({
      id: meta.file,
      kind: "dump",
      takenAt: String(meta.takenAt),
      sizeBytes: Number(meta.sizeBytes),
      verified: meta.verified === true,
      reason: typeof meta.reason === "string" ? meta.reason : undefined,
    });
  }
  const bases: StoredBackup[] = [];
  for (const name of list("base").filter((d) => /Z$/.test(d))) {
    const meta = metadata(path.join(dir, "base", name, "meta.json"));
    if (!meta) continue;
    bases.push({
      id: `base/${name}`,
      kind: "base",
      takenAt: String(meta.takenAt),
      sizeBytes: Number(meta.sizeBytes),
      verified: meta.verified === true,
    });
  }
  backups.push(...bases);
  backups.sort((a, b) => b.takenAt.localeCompare(a.takenAt));
  const state = path.join(dir, "state");
  const lastSuccessAt = epoch(read(path.join(state, "last_success")));
  const lastFailure = timedMessage(read(path.join(state, "last_failure")));
  const lastArchived = epoch(read(path.join(state, "last_archived")));
  const oldestBase = bases.map((b) => b.takenAt).sort()[0];
  return {
    backups,
    lastSuccessAt,
    lastFailure: lastFailure && (!lastSuccessAt || lastFailure.at >= lastSuccessAt) ? lastFailure : null,
    archiverFailure: timedMessage(read(path.join(state, "archiver_failure"))),
    failures: Number(read(path.join(state, "failures")) ?? 0) || 0,
    restorableRange: oldestBase && lastArchived ? { from: oldestBase, to: lastArchived.toISOString() } : null,
  };
}

/** Asks the sidecar for a backup now (it looks every few seconds). */
export function requestBackup(dir: string): void {
  fs.mkdirSync(path.join(dir, "state"), { recursive: true });
  fs.writeFileSync(path.join(dir, "state", "requested"), new Date().toISOString());
}

/**
 * Why the backups are failing, or undefined: the last attempt failed, WAL
 * archiving fails, or the last success is older than `maxAgeSeconds`.
 */
export function backupProblem(state: BackupState, maxAgeSeconds: number, now = new Date()): string | undefined {
  if (state.lastFailure) return `backup failed: ${state.lastFailure.message}`;
  if (state.archiverFailure) return `WAL archiving: ${state.archiverFailure.message}`;
  if (!state.lastSuccessAt) return "no successful backup yet";
  const age = (now.getTime() - state.lastSuccessAt.getTime()) / 1000;
  if (age > maxAgeSeconds) return `last successful backup ${Math.round(age)} s ago (allowed ${maxAgeSeconds} s)`;
  return undefined;
}

/** Removes the stores of resources deleted more than `days` ago (their final dumps with them). */
export function pruneStore(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
