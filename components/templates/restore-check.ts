// Verified restores (issue 12, part 4): what restores a database's backup into
// a scratch container and checks it with a query. Pure data: the script and
// the `docker run` arguments; automation/restore-check.ts runs them and
// api/restore-verification.ts schedules them and records the results.
//
// The scratch server has no network (`--network none`), no published port and
// no password: it listens on a socket inside the container only, with trust
// authentication, so nothing secret is on a command line, in its environment
// or in its output. It is named from the resource's host name (never user
// text) and carries the resource's project label, so a DELETE removes it too.
import { projectLabel } from "../model/compose.js";
import { storePath } from "./postgres-backup.js";
import { maxConnectionsCeiling } from "./postgres-tuning.js";

/** What the scratch container restores: a dump (`dumps/<stamp>.dump`) or a base backup (`base/<stamp>`, postgres-medium). */
export interface RestoreCheck {
  /** The resource's host name (`r<hex id>`): the container's name and the store's folder. */
  hostName: string;
  /** The Docker host's folder of backup stores. */
  backupsDir: string;
  /** The backup's id within the store. */
  backup: string;
  kind: "dump" | "base";
  /** The database the check queries in a base backup (a dump is restored into a database of its own). */
  database: string;
  /** The PostgreSQL image the resource runs (a restore needs the same major or newer). */
  image: string;
}

export const restoreCheckLabel = "provisioner.restore-check";

/** The scratch container's name: one per resource at a time (a leftover one is removed first). */
export function restoreCheckContainer(hostName: string): string {
  return `${hostName}-restore-check`;
}

/** The backup's id is the sidecar's own naming: anything else is refused before it reaches a path or a shell. */
const backupIds = { dump: /^dumps\/\d{8}T\d{6}Z\.dump$/, base: /^base\/\d{8}T\d{6}Z$/ };

/**
 * Runs as postgres in the scratch container, the backup mounted read-only at
 * /check/backup. Prints `checked <tables> <rows>` last on success: the
 * restored database's user tables (a dump: as many as its table of contents
 * lists) and their rows, each table read in full with count(*).
 */
export const restoreCheckScript = `#!/bin/sh
set -eu
dir=/tmp/check
mkdir -p "$dir"
export PGDATA="$dir/data"
start() {
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=${maxConnectionsCeiling} -c archive_mode=off $*" \\
    -l "$dir/server.log" -w -t 600 start >/dev/null || { tail -n 5 "$dir/server.log" >&2; exit 1; }
}
# Every user table read in full: a page that cannot be read fails the check.
count_rows() {
  psql -h "$dir" -U postgres -d "$1" -v ON_ERROR_STOP=1 -Atc "
    SELECT count(*), coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), 0)
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
}
case "$CHECK_KIND" in
  dump)
    toc=$(pg_restore --list /check/backup)
    # "<id>; <oid> <oid> TABLE <schema> <name> <owner>" (TABLE DATA lines are the rows).
    listed=$(printf '%s\\n' "$toc" | awk '$4 == "TABLE" && $5 != "DATA"' | wc -l)
    initdb -D "$PGDATA" -U postgres --auth=trust >/dev/null
    start
    createdb -h "$dir" -U postgres checked
    pg_restore --exit-on-error --no-owner --no-acl -h "$dir" -U postgres -d checked /check/backup
    result=$(count_rows checked)
    tables=\${result%%|*}
    [ "$tables" -eq "$listed" ] || { echo "restored $tables tables, the dump lists $listed" >&2; exit 1; } ;;
  base)
    # The base backup and the WAL it needs (pg_basebackup -X stream): crash recovery to a consistent state.
    mkdir -m 0700 "$PGDATA"
    tar -xzf /check/backup/base.tar.gz -C "$PGDATA"
    tar -xzf /check/backup/pg_wal.tar.gz -C "$PGDATA/pg_wal"
    # The primary's own settings stay out: no archiving, no replication, trust on the socket only.
    : > "$PGDATA/postgresql.auto.conf"
    echo "local all all trust" > "$PGDATA/pg_hba.conf"
    rm -f "$PGDATA/standby.signal" "$PGDATA/recovery.signal"
    start "-c hba_file=$PGDATA/pg_hba.conf"
    result=$(count_rows "$CHECK_DATABASE") ;;
  *) echo "unknown kind $CHECK_KIND" >&2; exit 2 ;;
esac
pg_ctl -D "$PGDATA" -m immediate stop >/dev/null
echo "checked \${result%%|*} \${result#*|}"
`;

/** `docker run` arguments of the scratch container (foreground; removed when it ends). */
export function restoreCheckArgs(check: RestoreCheck): string[] {
  if (!backupIds[check.kind].test(check.backup)) throw new Error(`not a ${check.kind} backup id: ${check.backup}`);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(check.hostName)) throw new Error(`not a host name: ${check.hostName}`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(check.database)) throw new Error(`not a database name: ${check.database}`);
  const source = `${storePath(check.backupsDir, check.hostName)}/${check.backup}`;
  return [
    "run",
    "--rm",
    "--name",
    restoreCheckContainer(check.hostName),
    "--label",
    `${projectLabel}=${check.hostName}`,
    "--label",
    `${restoreCheckLabel}=${check.kind}`,
    // No network at all: no port, nothing to reach; the server listens on its socket only.
    "--network",
    "none",
    "--user",
    "postgres",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges:true",
    "--pids-limit",
    "256",
    "--cpus",
    "1",
    "--memory",
    "1g",
    "--shm-size",
    "256m",
    "--mount",
    `type=bind,source=${source},target=/check/backup,readonly`,
    "--env",
    `CHECK_KIND=${check.kind}`,
    "--env",
    `CHECK_DATABASE=${check.database}`,
    "--entrypoint",
    "sh",
    check.image,
    "-c",
    restoreCheckScript,
  ];
}
