// The PostgreSQL templates' backups (issue 12), in one module so that the
// templates' own files (sizes, tuning) change without touching them:
// - the backup sidecar's script: every step checked, every dump verified
//   (size > 0, `pg_restore --list`), pruning only after a verified success, a
//   first backup at once, each result recorded in the backup store;
// - its health check (unhealthy when the last attempt failed or the last
//   success is older than the schedule allows);
// - postgres-medium's scheduled base backups, WAL archive pruned to them,
//   archiver failures recorded;
// - the init script of a database restored from another one's backup store
//   (a dump, or a point in time: base backup + WAL, then a logical copy).
//
// The backup store is a host directory per resource (`<backupsDir>/<host name>`,
// from the resource id), not a volume of the resource: deleting the resource
// leaves it (its final dump with it) for the control plane's retention to prune.
// Layout (core/backup-store.ts reads it):
//   dumps/<stamp>.dump + dumps/<stamp>.dump.json   verified logical dumps
//   base/<stamp>/{base.tar.gz,pg_wal.tar.gz,meta.json}   verified base backups (medium)
//   wal/                                            the WAL archive (medium)
//   state/last_success, state/last_failure, state/failures, state/archiver_failure, state/last_archived
//   state/requested                                 written by the control plane: back up now
import type { Mount, ServiceSpec } from "../model/system.js";
import type { TemplateContext } from "./template.js";
import { maxConnectionsCeiling } from "./postgres-tuning.js";

export const backupScriptFile = "backup.sh";
export const restoreScriptFile = "restore.sh";

/** Where a Docker host keeps backup stores unless told otherwise. */
export const defaultBackupsDir = "/var/lib/provisioner/backups";

/** Left in a restored database's data directory when its restore failed: its health check then fails. */
export const restoreFailedMarker = "provisioner-restore-failed";

/** Where the sidecar sees the resource's backup store. */
export const storeMountPath = "/backups";
/** Where a restored database's server sees the source's store (read-only). */
export const restoreSourcePath = "/restore-source";

/** Options of the templates the backups follow. */
export interface BackupOptions {
  backupTime: string;
  backupRetention: number;
  backupIntervalMinutes?: number;
}

/** Where a new database comes from: another resource's backup store, on the same host. */
export interface RestoreSource {
  /** The source's host name (its store's folder). */
  hostName: string;
  /** The source's database name. */
  database: string;
  /** A dump of the store (`dumps/<stamp>.dump`), or ... */
  backup?: string;
  /** ... a moment (ISO 8601) for point-in-time recovery (postgres-medium sources). */
  pointInTime?: string;
}

/** Seconds between two scheduled backups. */
export function backupIntervalSeconds(options: BackupOptions): number {
  return options.backupIntervalMinutes ? options.backupIntervalMinutes * 60 : 86_400;
}

/** The oldest a last success may be before the sidecar (and the control plane) call the backups failing: one and a half intervals. */
export function backupMaxAgeSeconds(options: BackupOptions): number {
  return Math.ceil(backupIntervalSeconds(options) * 1.5);
}

/**
 * `backup.sh run` (the sidecar), `once` (a backup now; exit status says how it
 * went), `first` (one unless the store has one), `final` (before the resource
 * goes down), `health` (the health check).
 * POSIX sh in the PostgreSQL image. No `set -e`: it is off inside functions
 * called from `||` and `if`, which is how the old loop failed silently; each
 * step's status is checked by hand instead.
 */
/**
 * The archiver's report, one row `<failed at>|<archived at>|<failed segment>` (epoch seconds, 0: never): read by
 * the sidecar's check_archiver on a Docker host, by the health rounds on Kubernetes (automation/kubernetes-backups.ts).
 */
export const archiverReportQuery =
  "SELECT coalesce(extract(epoch FROM last_failed_time)::bigint, 0), coalesce(extract(epoch FROM last_archived_time)::bigint, 0), coalesce(last_failed_wal, '') FROM pg_stat_archiver";

export const backupScript = `#!/bin/sh
set -u
umask 022
store=${storeMountPath}
state="$store/state"
now() { date -u +%s; }
# A failure is written in the container too: a store that cannot be written still fails the health check.
record_failure() {
  msg="$(now) $*"
  echo "$msg" > /tmp/last_failure
  mkdir -p "$state" 2>/dev/null
  { echo "$msg" > "$state/last_failure.tmp" && mv "$state/last_failure.tmp" "$state/last_failure"; } 2>/dev/null
  n=$(cat "$state/failures" 2>/dev/null || echo 0)
  echo $((n + 1)) > "$state/failures" 2>/dev/null
  echo "backup failed: $*" >&2
  return 1
}
record_success() {
  t=$(now)
  { echo "$t" > "$state/last_success.tmp" && mv "$state/last_success.tmp" "$state/last_success" && rm -f "$state/last_failure"; } ||
    { record_failure "cannot record the success in the store"; return 1; }
  echo "$t" > /tmp/last_success
  rm -f /tmp/last_failure
}
# The line of a tool's output that says what went wrong: its first error, else its last line.
last_line() {
  r=$(printf '%s\\n' "$1" | grep -i -m 1 'error')
  [ -n "$r" ] || r=$(printf '%s\\n' "$1" | grep -v '^$' | tail -n 1)
  printf '%s' "$r"
}

# Up to a minute for the server to answer before a backup fails for it: a server restarting, or (Kubernetes) a
# new pod whose first connections a NetworkPolicy enforcer refuses until it has admitted the pod's address.
wait_for_server() {
  i=0
  until pg_isready -q -h postgres -t 2; do i=$((i + 1)); [ "$i" -lt 30 ] || return 0; sleep 2; done
}

# A logical dump, verified before it counts: size > 0 and a readable table of contents.
take_dump() {
  mkdir -p "$store/dumps" "$state" || { record_failure "cannot create $store/dumps"; return 1; }
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  file="$store/dumps/$stamp.dump"
  rm -f "$store"/dumps/*.partial
  wait_for_server
  if ! out=$(PGPASSWORD="$POSTGRES_PASSWORD" pg_dump -h postgres -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Fc -f "$file.partial" 2>&1); then
    rm -f "$file.partial"; record_failure "pg_dump: $(last_line "$out")"; return 1
  fi
  size=$(stat -c %s "$file.partial" 2>/dev/null || echo 0)
  if [ "$size" -le 0 ]; then rm -f "$file.partial"; record_failure "pg_dump wrote an empty file"; return 1; fi
  if ! toc=$(pg_restore --list "$file.partial" 2>&1); then
    rm -f "$file.partial"; record_failure "pg_restore --list: $(last_line "$toc")"; return 1
  fi
  entries=$(printf '%s\\n' "$toc" | grep -c '^[0-9]')
  taken=$(date -u -d "@$(stat -c %Y "$file.partial")" +%Y-%m-%dT%H:%M:%SZ)
  if ! { mv "$file.partial" "$file" && chmod 0644 "$file" &&
    printf '{"kind":"dump","file":"dumps/%s.dump","takenAt":"%s","sizeBytes":%s,"tocEntries":%s,"verified":true,"reason":"%s"}\\n' \\
      "$stamp" "$taken" "$size" "$entries" "\${1:-scheduled}" > "$file.json.tmp" && mv "$file.json.tmp" "$file.json"; }; then
    rm -f "$file" "$file.partial" "$file.json.tmp"; record_failure "cannot store $file"; return 1
  fi
  echo "backup written: $file ($size bytes, $entries entries)"
}

# Keeps the newest BACKUP_RETENTION verified dumps; runs only after a verified success.
prune_dumps() {
  ls -1 "$store"/dumps/*.dump.json 2>/dev/null | sort -r | tail -n +$((BACKUP_RETENTION + 1)) | while read -r meta; do
    rm -f "\${meta%.json}" "$meta"
  done
}

# postgres-medium: a base backup for point-in-time recovery, verified (both archives list, backup_label names its first WAL).
take_base() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  dir="$store/base/$stamp"
  mkdir -p "$store/base" || { record_failure "cannot create $store/base"; return 1; }
  rm -rf "$store"/base/*.partial
  if ! out=$(PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h postgres -U replicator -D "$dir.partial" -c fast -Ft -z -X stream 2>&1); then
    rm -rf "$dir.partial"; record_failure "pg_basebackup: $(last_line "$out")"; return 1
  fi
  if ! label=$(tar -xzOf "$dir.partial/base.tar.gz" backup_label 2>&1) || ! tar -tzf "$dir.partial/base.tar.gz" >/dev/null 2>&1; then
    rm -rf "$dir.partial"; record_failure "base backup unreadable: $(last_line "$label")"; return 1
  fi
  wal=$(printf '%s\\n' "$label" | sed -n 's/^START WAL LOCATION: .*(file \\([0-9A-F]*\\)).*/\\1/p')
  [ -n "$wal" ] || { rm -rf "$dir.partial"; record_failure "base backup without a start WAL"; return 1; }
  size=$(du -sb "$dir.partial" | cut -f1)
  # Recovery can target only moments after the backup ended.
  ended=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  if ! { printf '{"kind":"base","dir":"base/%s","takenAt":"%s","startWal":"%s","sizeBytes":%s,"verified":true}\\n' \\
      "$stamp" "$ended" "$wal" "$size" > "$dir.partial/meta.json" && chmod -R a+rX "$dir.partial" && mv "$dir.partial" "$dir"; }; then
    rm -rf "$dir.partial"; record_failure "cannot store $dir"; return 1
  fi
  echo "base backup written: $dir"
}

# Keeps the newest BACKUP_RETENTION base backups, and the archived WAL from the oldest kept one on.
prune_base() {
  ls -1d "$store"/base/2*Z 2>/dev/null | sort -r | tail -n +$((BACKUP_RETENTION + 1)) | xargs -r rm -rf
  oldest=$(ls -1d "$store"/base/2*Z 2>/dev/null | sort | head -n 1)
  [ -n "$oldest" ] || return 0
  wal=$(sed -n 's/.*"startWal":"\\([0-9A-F]*\\)".*/\\1/p' "$oldest/meta.json")
  # The archive is postgres' (its server writes there): cleaned up as postgres.
  [ -z "$wal" ] || su postgres -s /bin/sh -c "pg_archivecleanup '$store/wal' '$wal'" || record_failure "pg_archivecleanup failed"
}

# postgres-medium: the archiver's own report; a failure newer than the last archived segment is one now.
check_archiver() {
  if ! row=$(PGPASSWORD="$POSTGRES_PASSWORD" psql -h postgres -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc \\
    "${archiverReportQuery}" 2>&1); then
    echo "$(now) cannot read pg_stat_archiver: $(last_line "$row")" > /tmp/archiver_failure
  else
    failed_at=\${row%%|*}; rest=\${row#*|}; archived_at=\${rest%%|*}; failed_wal=\${rest#*|}
    [ "$archived_at" -eq 0 ] || echo "$archived_at" > "$state/last_archived" 2>/dev/null
    if [ "$failed_at" -gt "$archived_at" ]; then
      echo "$failed_at archiving $failed_wal failed" > /tmp/archiver_failure
    else
      rm -f /tmp/archiver_failure
    fi
  fi
  if [ -e /tmp/archiver_failure ]; then cp /tmp/archiver_failure "$state/archiver_failure" 2>/dev/null; else rm -f "$state/archiver_failure"; fi
}

# One backup at a time in this container: the loop's, and an exec'd once (before an image change) or final
# (before a DELETE), which would otherwise remove each other's partial files.
locked() {
  ( flock -w 3600 9 || { record_failure "another backup held the lock for an hour"; exit 1; }; "$@" ) 9>/tmp/backup.lock
}

run_once() {
  take_dump "\${1:-scheduled}" || return 1
  if [ "\${BACKUP_BASE:-0}" = 1 ]; then take_base || return 1; fi
  record_success || return 1
  prune_dumps
  if [ "\${BACKUP_BASE:-0}" = 1 ]; then prune_base; fi
  return 0
}

# The next scheduled moment after $1: every BACKUP_INTERVAL_MINUTES, else daily at BACKUP_TIME (UTC).
next_after() {
  if [ "\${BACKUP_INTERVAL_MINUTES:-0}" -gt 0 ]; then echo $(($1 + BACKUP_INTERVAL_MINUTES * 60)); return; fi
  n=$(date -u -d "$(date -u -d "@$1" +%F) $BACKUP_TIME" +%s)
  [ "$n" -gt "$1" ] || n=$(date -u -d "$(date -u -d "@$1" +%F) $BACKUP_TIME tomorrow" +%s)
  echo "$n"
}

health() {
  [ ! -e /tmp/last_failure ] || { echo "last backup failed: $(cut -d' ' -f2- /tmp/last_failure)"; exit 1; }
  [ ! -e /tmp/archiver_failure ] || { echo "WAL archiving: $(cut -d' ' -f2- /tmp/archiver_failure)"; exit 1; }
  last=$(cat /tmp/last_success 2>/dev/null || cat "$state/last_success" 2>/dev/null || echo 0)
  age=$(($(now) - last))
  [ "$age" -le "$BACKUP_MAX_AGE_SECONDS" ] || { echo "last successful backup $age s ago"; exit 1; }
  echo "last successful backup $age s ago"
}

final_dump() { take_dump final && record_success; }

case "\${1:-run}" in
  # once [reason]: on-demand, before-upgrade
  once) locked run_once "\${2:-on-demand}" ;;
  # The first backup, unless the store has had one (a target that schedules one run at a time: Kubernetes).
  first) if [ -s "$state/last_success" ]; then echo "the store has a backup already"; else locked run_once first; fi ;;
  final) locked final_dump ;;
  base) locked take_base ;;
  health) health ;;
  run)
    # PID 1 ignores SIGTERM unless it traps it; waiting on a background sleep
    # lets the trap run at once, so a stop takes no grace period.
    trap 'exit 0' TERM INT
    mkdir -p "$state" 2>/dev/null
    last=$(cat "$state/last_success" 2>/dev/null || echo 0)
    # The first backup right after create (and after a store was lost).
    attempted=$(now)
    if [ "$last" -eq 0 ] && ! locked run_once first; then next=$((attempted + 60))
    else next=$(next_after "$(cat "$state/last_success" 2>/dev/null || echo "$attempted")"); fi
    while :; do
      sleep 5 & wait $!
      if [ "\${BACKUP_BASE:-0}" = 1 ]; then check_archiver; fi
      reason=''
      if [ -e "$state/requested" ]; then rm -f "$state/requested"; reason=on-demand
      elif [ "$(now)" -ge "$next" ]; then reason=scheduled; fi
      [ -n "$reason" ] || continue
      attempted=$(now)
      if locked run_once "$reason"; then next=$(next_after "$attempted")
      else
        # A failure is retried within ten minutes (sooner on a shorter schedule), never later than the schedule.
        # Until a first success, within a minute.
        retry=$((attempted + 600)); [ -s "$state/last_success" ] || retry=$((attempted + 60))
        n=$(next_after "$attempted"); [ "$n" -lt "$retry" ] && retry=$n; next=$retry
      fi
    done ;;
  *) echo "usage: backup.sh run|once [reason]|first|final|base|health" >&2; exit 2 ;;
esac
`;

/**
 * Runs once, at a restored database's first start (docker-entrypoint-initdb.d,
 * as postgres, the server on its socket only): fills the new, empty database
 * from the source's store, read-only. A dump is restored as is; a point in
 * time is first recovered in a scratch server (the newest base backup taken
 * before it plus the archived WAL up to it), then copied logically, so the new
 * database keeps its own name, role and password. Any failure stops the
 * first start, and so the create.
 */
export const restoreScript = `#!/bin/sh
# Sourced by the image's entry point (the file is not executable): a subshell keeps exit and set -u to itself.
# Entry points differ in what a failed init script does (the local image's goes on): a failure leaves a
# marker in the data directory, which keeps the server's health check failing, so the create fails.
(
set -eu
trap 'rc=$?; [ $rc -eq 0 ] || { echo "restore failed ($rc)" >&2; touch "$PGDATA/${restoreFailedMarker}"; }' EXIT
src=${restoreSourcePath}
restore() { pg_restore --exit-on-error --no-owner --no-acl --role="$PROVISIONER_APP_ROLE" -U postgres -d "$POSTGRES_DB" "$@"; }
if [ -n "\${RESTORE_BACKUP:-}" ]; then
  echo "restore: from $RESTORE_BACKUP"
  pg_restore --list "$src/$RESTORE_BACKUP" >/dev/null
  restore "$src/$RESTORE_BACKUP"
  echo "restore: done"
  exit 0
fi
target="$RESTORE_POINT_IN_TIME"
target_s=$(date -u -d "$target" +%s)
# recovery_target_time takes "YYYY-MM-DD HH:MM:SS[.ffffff]+00", not ISO 8601's T and Z.
pg_target=$(printf '%s' "$target" | sed 's/T/ /; s/Z$/+00/')
base=''
for meta in $(ls -1 "$src"/base/2*Z/meta.json 2>/dev/null | sort); do
  taken=$(sed -n 's/.*"takenAt":"\\([^"]*\\)".*/\\1/p' "$meta")
  [ "$(date -u -d "$taken" +%s)" -le "$target_s" ] && base=$(dirname "$meta")
done
[ -n "$base" ] || { echo "restore: no base backup before $target" >&2; exit 1; }
echo "restore: base backup $base, WAL up to $target"
dir=/tmp/pitr
rm -rf "$dir" && mkdir -p "$dir" && chmod 0700 "$dir"
tar -xzf "$base/base.tar.gz" -C "$dir"
cat >> "$dir/postgresql.auto.conf" <<CONF
restore_command = 'cp $src/wal/%f %p'
recovery_target_time = '$pg_target'
recovery_target_action = 'promote'
archive_mode = off
# Recovery refuses a max_connections below the primary's (tuned by size, at most ${maxConnectionsCeiling}: postgres-tuning.ts).
max_connections = ${maxConnectionsCeiling}
CONF
touch "$dir/recovery.signal"
if ! pg_ctl -D "$dir" -o "-p 5433 -k /tmp -c listen_addresses=''" -l /tmp/pitr.log -w -t 600 start; then
  tail -n 20 /tmp/pitr.log >&2; exit 1
fi
i=0
until [ "$(psql -h /tmp -p 5433 -U postgres -d postgres -Atc 'select pg_is_in_recovery()' 2>/dev/null)" = f ]; do
  # A recovery that cannot reach its target (WAL missing) stops the server: say so at once.
  pg_ctl -D "$dir" status >/dev/null || { echo "restore: recovery stopped" >&2; tail -n 5 /tmp/pitr.log >&2; exit 1; }
  i=$((i + 1)); [ "$i" -lt 600 ] || { echo "restore: still recovering after 600 s" >&2; tail -n 20 /tmp/pitr.log >&2; exit 1; }
  sleep 1
done
pg_dump -h /tmp -p 5433 -U postgres -d "$RESTORE_SOURCE_DATABASE" -Fc -f /tmp/pitr.dump
pg_ctl -D "$dir" -m fast stop
rm -rf "$dir"
restore /tmp/pitr.dump
rm -f /tmp/pitr.dump
echo "restore: done"
)
`;

/** The resource's store on its host. */
export function storePath(backupsDir: string, hostName: string): string {
  return `${backupsDir}/${hostName}`;
}

/** A host folder mounted into a service (the Mount "host:" form). */
const hostMount = (path: string, target: string, readOnly = false): Mount => ({ source: `host:${path}`, target, readOnly });

/** The backup sidecar of postgres-small and -medium. */
export function backupSidecar(
  ctx: TemplateContext<BackupOptions>,
  appEnv: Record<string, string>,
  { baseBackups }: { baseBackups: boolean },
): ServiceSpec {
  const store = storePath(ctx.backupsDir, ctx.project);
  return {
    image: ctx.images.postgres,
    entrypoint: ["/bin/sh", `/etc/provisioner/${backupScriptFile}`],
    command: ["run"],
    // A target with a scheduler (Kubernetes) runs one backup at the daily time instead of the loop.
    schedule: {
      dailyAtUtc: ctx.options.backupTime,
      ...(ctx.options.backupIntervalMinutes ? { everyMinutes: ctx.options.backupIntervalMinutes } : {}),
      command: ["once", "scheduled"],
      afterDeploy: ["first"],
    },
    environment: {
      ...appEnv,
      BACKUP_TIME: ctx.options.backupTime,
      BACKUP_RETENTION: String(ctx.options.backupRetention),
      BACKUP_INTERVAL_MINUTES: String(ctx.options.backupIntervalMinutes ?? 0),
      BACKUP_MAX_AGE_SECONDS: String(backupMaxAgeSeconds(ctx.options)),
      BACKUP_BASE: baseBackups ? "1" : "0",
    },
    // The store is created root's on the host; root needs no capability to write there.
    user: "root",
    mounts: [
      hostMount(store, storeMountPath),
      { source: `file:${backupScriptFile}`, target: `/etc/provisioner/${backupScriptFile}`, readOnly: true },
    ],
    // Healthy only while the last attempt succeeded and the last success is recent:
    // the first backup is part of a create (the deployment waits for it).
    healthCheck: {
      test: ["CMD", "sh", `/etc/provisioner/${backupScriptFile}`, "health"],
      intervalSeconds: 5,
      timeoutSeconds: 5,
      retries: 3,
      // The first backup (of a restored database too) is made within it.
      startPeriodSeconds: 300,
    },
    // Before the resource goes down (DELETE), a final dump into the store, which stays.
    beforeDown: `sh /etc/provisioner/${backupScriptFile} final`,
    dependsOn: ["postgres"],
    limits: { cpus: Math.min(ctx.size.cpus, 0.5), memoryMb: 256 },
    restart: "unless-stopped",
  };
}

/** What a restored database's server adds: the source's store (read-only), the restore script and its settings. */
export function restoreMounts(ctx: TemplateContext<unknown>): { mounts: Mount[]; environment: Record<string, string> } {
  const source = ctx.restoreFrom;
  if (!source) return { mounts: [], environment: {} };
  return {
    mounts: [
      hostMount(storePath(ctx.backupsDir, source.hostName), restoreSourcePath, true),
      { source: `file:${restoreScriptFile}`, target: `/docker-entrypoint-initdb.d/020-${restoreScriptFile}`, readOnly: true },
    ],
    environment: {
      RESTORE_SOURCE_DATABASE: source.database,
      ...(source.backup ? { RESTORE_BACKUP: source.backup } : {}),
      ...(source.pointInTime ? { RESTORE_POINT_IN_TIME: source.pointInTime } : {}),
    },
  };
}

/** The WAL archive lives in the store, so point-in-time recovery outlives the resource. */
export function walArchiveMount(ctx: TemplateContext<unknown>): Mount {
  return hostMount(`${storePath(ctx.backupsDir, ctx.project)}/wal`, "/archive");
}
