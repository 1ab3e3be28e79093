// A Kubernetes database's backups, seen from the control plane. In the cluster
// the CronJob and the first-backup Job (components/targets/kubernetes-manifests.ts)
// write the resource's store, a claim of its namespace. Here:
// - copyBackupStore() copies that store into this machine's backup folder, in
//   the layout of a Docker host's store (core/backup-store.ts reads both), so
//   the listing, backup health, metrics, verified restores and a deleted
//   database's backups work as on a Docker host, and the store outlives the
//   namespace. Only what changed is copied (by size and time), through the
//   server's pod, which mounts the store read-only (the claim is its own).
//   A WAL-archiving database's archiver report is read there too, and written
//   where a Docker host's sidecar writes it.
// - runBackupJob() runs the CronJob's pod once with other arguments: a backup
//   on demand, the final dump before a DELETE.
// @kubernetes/client-node is loaded on first use: the API process starts without it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesSettings } from "../core/cloud-settings.js";
import { backupStoreReadPath } from "../components/model/system.js";
import { archiverReportQuery } from "../components/templates/postgres-backup.js";

const client = () => import("@kubernetes/client-node");

async function kubeConfig(settings: KubernetesSettings): Promise<KubeConfig> {
  const { KubeConfig } = await client();
  const config = new KubeConfig();
  if (settings.kubeconfigPath) config.loadFromFile(settings.kubeconfigPath);
  else config.loadFromCluster();
  return config;
}

/** The running pod (and its container) that mounts the store read-only. */
async function storeReader(config: KubeConfig, namespace: string): Promise<{ pod: string; container: string }> {
  const { CoreV1Api } = await client();
  const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  for (const pod of pods.items) {
    if (pod.status?.phase !== "Running" || pod.metadata?.deletionTimestamp) continue;
    const container = pod.spec?.containers.find((c) => c.volumeMounts?.some((m) => m.mountPath === backupStoreReadPath));
    if (container) return { pod: pod.metadata!.name!, container: container.name };
  }
  throw new Error(`no running pod of ${namespace} holds the backup store`);
}

/** Runs a command in the container; its output goes to `stdout`. Rejects with the command's last error line. */
async function execIn(config: KubeConfig, namespace: string, at: { pod: string; container: string }, command: string[], stdout: Writable) {
  const { Exec } = await client();
  const errors: Buffer[] = [];
  const stderr = new Writable({ write: (chunk: Buffer, _encoding, done) => void (errors.push(chunk), done()) });
  await new Promise<void>((resolve, reject) => {
    let status: { status?: string; message?: string } | undefined;
    new Exec(config)
      .exec(namespace, at.pod, at.container, command, stdout, stderr, null, false, (s) => (status = s))
      .then((opened) => {
        // A `ws` WebSocket (its types are not installed): the events are all that is used.
        const socket = opened as unknown as NodeJS.EventEmitter;
        socket.on("error", reject);
        socket.on("close", () => {
          if (status?.status === "Success") return resolve();
          const said = Buffer.concat(errors).toString("utf8").trim().split("\n").pop();
          reject(new Error(`${command[0]} in ${at.pod}: ${said || status?.message || "ended without a status"}`));
        });
      }, reject);
  });
}

interface FileInfo {
  size: number;
  /** Whole seconds: what tar keeps. */
  mtime: number;
}

function localFiles(dir: string): Map<string, FileInfo> {
  const files = new Map<string, FileInfo>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const relative = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.isFile()) {
        const stat = fs.statSync(path.join(dir, relative));
        files.set(relative, { size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000) });
      }
    }
  };
  if (fs.existsSync(dir)) walk("");
  return files;
}

/** A backup's key in its folder (dumps: the stamp of `<stamp>.dump[.json]`; base: its folder; wal: the segment). */
function backupKey(file: string): { folder: string; key: string } | undefined {
  const [folder, name] = file.split("/");
  if (!name || !["dumps", "base", "wal"].includes(folder!)) return undefined;
  return { folder: folder!, key: folder === "dumps" ? name.replace(/\.dump(\.json)?$/, "") : name };
}

// As root (a control plane that runs its Docker host), a file keeps its owner and mode, as in the store: the WAL
// archive's segments are the server's (postgres, 0600), and a point-in-time restore on this Docker host reads them
// as that user. Otherwise they become this user's, with its umask.
const keptOwners =
  process.getuid?.() === 0 ? ["--same-owner", "--numeric-owner", "--same-permissions"] : ["--no-same-owner", "--no-same-permissions"];

/** Written here, not copied: the archiver report (archiverReport()). */
const archiverStateFiles = ["state/last_archived", "state/archiver_failure"];

/**
 * The local copies the cluster's store pruned: what its retention removes
 * there goes here too, but a store that lost its backups (a new claim, a
 * wiped volume) takes nothing with it. A dump or base backup goes when the
 * store keeps at least `retention` newer ones of its kind; WAL before the
 * oldest base backup kept here (what pg_archivecleanup removes); state files
 * the store no longer has (the last failure after a success).
 */
export function pruned(local: Map<string, FileInfo>, remote: Map<string, FileInfo>, retention: number, dir: string): string[] {
  const kept = (folder: string) =>
    [...new Set([...remote.keys()].map(backupKey).flatMap((k) => (k?.folder === folder ? [k.key] : [])))].sort();
  const dumps = kept("dumps");
  const bases = kept("base");
  // The oldest base backup the store keeps, once it keeps as many as it may (its copy here arrived first).
  const oldestBase = bases.length >= retention ? bases[0] : undefined;
  const startWal = oldestBase ? /"startWal":"([0-9A-F]+)"/.exec(readOr(path.join(dir, "base", oldestBase, "meta.json")))?.[1] : undefined;
  const remoteHasState = [...remote.keys()].some((f) => f.startsWith("state/"));
  return [...local.keys()].filter((file) => {
    if (remote.has(file) || archiverStateFiles.includes(file)) return false;
    if (file.startsWith("state/")) return remoteHasState;
    const k = backupKey(file);
    if (!k) return false;
    if (k.folder === "dumps") return dumps.length >= retention && k.key < dumps[0]!;
    if (k.folder === "base") return bases.length >= retention && k.key < bases[0]!;
    return startWal !== undefined && k.key < startWal;
  });
}

const readOr = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
};
const partial = (file: string) => /\.(partial|tmp)(\/|$)/.test(file);
/** Data before what names it: a listing never shows a backup whose file has not arrived. */
const order = (file: string) => (file.startsWith("state/") ? 2 : /(\.json)$/.test(file) ? 1 : 0);

/**
 * Copies the resource's store in the cluster into `dir` (this machine's copy
 * of it): what is new or changed, then removes what the store's retention
 * removed. `retention`: the database's backupRetention.
 */
export async function copyBackupStore(
  settings: KubernetesSettings,
  namespace: string,
  dir: string,
  retention: number,
  { walArchive = false } = {},
): Promise<{ copied: number; removed: number }> {
  const config = await kubeConfig(settings);
  const reader = await storeReader(config, namespace);
  // Read before the copy and written after it: every segment the report counts as archived is in the copy.
  const report = walArchive ? await archiverReport(config, namespace, reader) : undefined;
  const listing: Buffer[] = [];
  await execIn(
    config,
    namespace,
    reader,
    ["find", backupStoreReadPath, "-type", "f", "-printf", "%P\\t%s\\t%T@\\n"],
    new Writable({ write: (chunk: Buffer, _encoding, done) => void (listing.push(chunk), done()) }),
  );
  const remote = new Map<string, FileInfo>();
  for (const line of Buffer.concat(listing).toString("utf8").split("\n")) {
    const [file, size, mtime] = line.split("\t");
    if (file && size && mtime && !partial(file)) remote.set(file, { size: Number(size), mtime: Math.floor(Number(mtime)) });
  }
  fs.mkdirSync(dir, { recursive: true });
  const local = localFiles(dir);
  const wanted = [...remote.entries()]
    .filter(([file, r]) => local.get(file)?.size !== r.size || local.get(file)?.mtime !== r.mtime)
    .map(([file]) => file)
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const incoming = fs.mkdtempSync(path.join(dir, ".incoming-"));
  try {
    // In batches: the file names travel in the exec request's address.
    for (let i = 0; i < wanted.length; i += 100) {
      const batch = wanted.slice(i, i + 100);
      const untar = spawn("tar", ["-x", "-f", "-", "-C", incoming, ...keptOwners], {
        stdio: ["pipe", "ignore", "pipe"],
      });
      const untarred = new Promise<void>((resolve, reject) => {
        let said = "";
        untar.stderr.on("data", (chunk: Buffer) => (said += chunk.toString("utf8")));
        untar.on("error", reject);
        untar.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar -x: ${said.trim() || `exit ${code}`}`))));
      });
      await execIn(config, namespace, reader, ["tar", "-C", backupStoreReadPath, "-cf", "-", "--", ...batch], untar.stdin).finally(() =>
        untar.stdin.end(),
      );
      await untarred;
      for (const file of batch) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.renameSync(path.join(incoming, file), path.join(dir, file));
      }
    }
  } finally {
    fs.rmSync(incoming, { recursive: true, force: true });
  }
  // What was here before the copy: what it added is all in the store, never pruned.
  const removed = pruned(local, remote, retention, dir);
  for (const file of removed) {
    fs.rmSync(path.join(dir, file), { force: true });
    // A base backup is a folder: gone with its last file.
    if (file.startsWith("base/")) fs.rmSync(path.join(dir, path.dirname(file)), { recursive: true, force: true });
  }
  if (report) writeArchiverReport(dir, report);
  return { copied: wanted.length, removed: removed.length };
}

interface ArchiverReport {
  /** Epoch seconds; 0: never. */
  failedAt: number;
  archivedAt: number;
  failedWal: string;
}

/**
 * A WAL-archiving database's (postgres-medium) archiver report: pg_stat_archiver, read in the server's container as
 * its superuser. In the cluster the Docker host's sidecar loop, which reads it every few seconds, is a CronJob's run,
 * so nothing in the store reports archiving in between.
 */
async function archiverReport(config: KubeConfig, namespace: string, reader: { pod: string; container: string }): Promise<ArchiverReport> {
  const output: Buffer[] = [];
  await execIn(
    config,
    namespace,
    reader,
    ["psql", "-U", "postgres", "-Atc", archiverReportQuery],
    new Writable({ write: (chunk: Buffer, _encoding, done) => void (output.push(chunk), done()) }),
  );
  const [failedAt, archivedAt, failedWal = ""] = Buffer.concat(output).toString("utf8").trim().split("|");
  if (!/^\d+$/.test(failedAt ?? "") || !/^\d+$/.test(archivedAt ?? "")) throw new Error("pg_stat_archiver: an unexpected answer");
  return { failedAt: Number(failedAt), archivedAt: Number(archivedAt), failedWal };
}

/**
 * As backup.sh's check_archiver writes it: the last archived segment's time (the end of the range a point-in-time
 * restore may ask for), and a failure newer than it (the database's backup problem).
 */
function writeArchiverReport(dir: string, { failedAt, archivedAt, failedWal }: ArchiverReport) {
  const state = path.join(dir, "state");
  fs.mkdirSync(state, { recursive: true });
  if (archivedAt > 0) fs.writeFileSync(path.join(state, "last_archived"), `${archivedAt}\n`);
  if (failedAt > archivedAt) fs.writeFileSync(path.join(state, "archiver_failure"), `${failedAt} archiving ${failedWal} failed\n`);
  else fs.rmSync(path.join(state, "archiver_failure"), { force: true });
}

/**
 * Runs the backup CronJob's pod once with `args` (["once", "on-demand"],
 * ["final"]) as a Job of its own; with `waitMs`, until it ends (a failure
 * rejects; its reason is in the store's last failure).
 */
export async function runBackupJob(settings: KubernetesSettings, namespace: string, args: string[], waitMs = 0): Promise<string> {
  const { BatchV1Api } = await client();
  const batch = (await kubeConfig(settings)).makeApiClient(BatchV1Api);
  const crons = (await batch.listNamespacedCronJob({ namespace })).items;
  if (crons.length !== 1) throw new Error(`${namespace} has ${crons.length} CronJobs, not its one backup`);
  const template = structuredClone(crons[0]!.spec!.jobTemplate);
  const container = template.spec!.template.spec!.containers[0]!;
  container.args = args;
  const cron = crons[0]!.metadata!;
  const name = `${cron.name}-${args.join("-")}-${Date.now().toString(36)}`.slice(0, 63);
  await batch.createNamespacedJob({
    namespace,
    body: {
      apiVersion: "batch/v1",
      kind: "Job",
      // Owned by the CronJob (as `kubectl create job --from=cronjob/...` makes it): it goes with it. A finished
      // pod still holds the claims it mounted, and a claim in use is never deleted.
      metadata: {
        name,
        labels: template.metadata?.labels,
        ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cron.name!, uid: cron.uid!, blockOwnerDeletion: true }],
      },
      spec: { ...template.spec!, ttlSecondsAfterFinished: 3600 },
    },
  });
  if (waitMs <= 0) return name;
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const job = await batch.readNamespacedJob({ name, namespace });
      const ended = job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
      if (ended?.type === "Complete") return name;
      if (ended) throw new Error(`the backup Job ${name} failed${ended.message ? `: ${ended.message}` : ""}`);
      if (Date.now() > deadline) throw new Error(`the backup Job ${name} did not end within ${Math.round(waitMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } finally {
    // Waited for: its result is in the store; its pod would hold the store's claim.
    await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Foreground" }).catch(() => undefined);
  }
}
