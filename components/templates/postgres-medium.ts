// postgres-medium: postgres-small plus a streaming read replica (published,
// read-only) and WAL archiving with daily base backups for point-in-time
// recovery (`pitr.sh "<time>"` in the backup container restores into a
// scratch instance).
import type { SystemModel } from "../model/system.js";
import {
  appRoleFile,
  appRoleScript,
  backupScript,
  backupScriptFile,
  databaseNames,
  postgresServices,
  postgresSmall,
  serverEntrypoint,
  type PostgresOptions,
} from "./postgres.js";
import { postgresArgs, postgresSettings } from "./postgres-tuning.js";
import type { TemplateSizes } from "./sizes.js";
import { healthCheck, type Template, type TemplateContext } from "./template.js";
import { backupBeforeImageChange } from "./upgrade-steps.js";

/**
 * postgres-medium's sizes: the limits of each database server, the primary
 * and the replica alike (a replica that can take over needs the primary's
 * size), and the primary's data volume. medium is the design's 4 vCPU / 16 GB
 * / 50 GB. PgBouncer and the backup sidecar come on top.
 */
export const postgresMediumSizes: TemplateSizes = {
  small: { cpus: 2, memoryMb: 8192, storageGb: 25 },
  medium: { cpus: 4, memoryMb: 16384, storageGb: 50 },
  large: { cpus: 8, memoryMb: 32768, storageGb: 100 },
};

const replicaScriptFile = "replica.sh";
const primaryInitFile = "primary-init.sh";
const pitrScriptFile = "pitr.sh";

/**
 * Runs once, at the primary's first start: the replication role and its
 * pg_hba line. The password goes through a here-document: a command line
 * shows in the host's `ps`.
 */
const primaryInitScript = `#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';
SQL
# "all" does not match replication connections.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
`;

/** The replica's entry point: clone the primary on first start, then run as a hot standby. */
const replicaScript = `#!/bin/sh
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD="$REPLICATION_PASSWORD"
  until pg_isready -q -h postgres -U replicator; do sleep 1; done
  pg_receivewal -h postgres -U replicator --create-slot --if-not-exists -S replica1
  pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream -S replica1
  chmod 0700 "$PGDATA"
fi
# The primary's tuning comes as arguments: a standby needs max_connections at least the primary's.
exec postgres -c hot_standby=on "$@"
`;

/**
 * Point-in-time recovery into a scratch instance: the newest base backup
 * taken before the target, plus the archived WAL up to it. The instance
 * listens on /tmp, port 5433, inside this container.
 */
const pitrScript = `#!/bin/sh
set -eu
target="$1"
base=$(ls -1d /backups/base-* | sort | while read -r b; do
  [ "$(date -u -d "$(cat "$b/taken_at")" +%s)" -le "$(date -u -d "$target" +%s)" ] && echo "$b"; done | tail -n 1)
[ -n "$base" ] || { echo "no base backup before $target" >&2; exit 1; }
dir=/tmp/pitr
# Root here has CHOWN, SETUID and SETGID only: whatever postgres owns, postgres
# removes and reads; root unpacks as its own (--no-same-owner), then hands over.
[ ! -e "$dir" ] || su postgres -s /bin/sh -c "rm -rf $dir"
mkdir -p "$dir" && tar --no-same-owner -xzf "$base/base.tar.gz" -C "$dir"
cat >> "$dir/postgresql.auto.conf" <<CONF
restore_command = 'cp /archive/%f %p'
recovery_target_time = '$target'
recovery_target_action = 'promote'
archive_mode = off
# Recovery refuses a max_connections below the primary's (tuned by size, at most 500: postgres-tuning.ts).
max_connections = 500
CONF
touch "$dir/recovery.signal"
chmod 0700 "$dir" && chown -R postgres "$dir"
log() { su postgres -s /bin/sh -c "tail -n 20 /tmp/pitr.log" >&2; }
if ! su postgres -s /bin/sh -c "pg_ctl -D $dir -o \\"-p 5433 -k /tmp -c listen_addresses=''\\" -l /tmp/pitr.log -w -t 120 start"; then
  log; exit 1
fi
i=0
until [ "$(su postgres -s /bin/sh -c "psql -h /tmp -p 5433 -U $POSTGRES_USER -d postgres -Atc 'select pg_is_in_recovery()'")" = f ]; do
  i=$((i + 1)); [ "$i" -lt 120 ] || { echo "still recovering after 120 s" >&2; log; exit 1; }
  sleep 1
done
echo "restored from $base to $target"
`;

/** `backup.sh base`: a compressed base backup (with its WAL) for PITR. */
const baseBackupAddition = `
if [ "\${1:-}" = base ]; then
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  dir="/backups/base-$stamp"
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h postgres -U replicator -D "$dir.partial" -Ft -z -X fetch
  # Recovery can target only moments after the backup ended.
  date -u +"%Y-%m-%d %H:%M:%S+00" > "$dir.partial/taken_at"
  mv "$dir.partial" "$dir"
  ls -1dt /backups/base-* | grep -v partial | tail -n +$((BACKUP_RETENTION + 1)) | xargs -r rm -rf
  echo "base backup written: $dir"
  exit 0
fi
`;

function build(ctx: TemplateContext<PostgresOptions>): SystemModel {
  const services = postgresServices(ctx);
  const replication = { REPLICATION_PASSWORD: ctx.secrets.replicationPassword! };
  const primary = services.postgres!;
  // Root first: the archive volume is created root's and must belong to
  // postgres; then the image's own entry point, which walks the data
  // directory (postgres', 0700) to chown it, chmods it and switches to postgres
  // (gosu, setpriv). Found by trying: each of these five is needed.
  primary.entrypoint = serverEntrypoint("mkdir -p /archive && chown postgres /archive && ");
  primary.user = undefined;
  primary.capabilities = ["CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETUID", "SETGID"];
  primary.command = [
    ...primary.command!,
    "-c",
    "wal_level=replica",
    "-c",
    "archive_mode=on",
    "-c",
    "archive_command=test ! -f /archive/%f && cp %p /archive/%f",
    "-c",
    "archive_timeout=60",
    "-c",
    "max_wal_senders=10",
    "-c",
    "max_replication_slots=10",
  ];
  primary.environment = { ...primary.environment, ...replication };
  // On a target with several machines, a replica on the primary's machine protects nothing.
  const spread = { group: "postgres", required: true };
  primary.spread = spread;
  primary.mounts = [
    ...primary.mounts!,
    { source: "archive", target: "/archive" },
    { source: `file:${primaryInitFile}`, target: `/docker-entrypoint-initdb.d/${primaryInitFile}`, readOnly: true },
  ];

  services.replica = {
    image: ctx.images.postgres,
    spread,
    entrypoint: ["/bin/sh", `/etc/provisioner/${replicaScriptFile}`],
    command: postgresArgs(postgresSettings(ctx.size)),
    user: "postgres",
    environment: { ...replication, PGDATA: "/var/lib/postgresql/data" },
    mounts: [
      { source: "replica-data", target: "/var/lib/postgresql/data" },
      { source: `file:${replicaScriptFile}`, target: `/etc/provisioner/${replicaScriptFile}`, readOnly: true },
    ],
    ports: [{ host: ctx.ports.replica!, container: 5432, hostIp: ctx.publishIp }],
    healthCheck: healthCheck(["CMD-SHELL", "pg_isready -h 127.0.0.1"]),
    dependsOn: ["postgres"],
    limits: primary.limits,
    shmMb: primary.shmMb,
    restart: "unless-stopped",
  };

  const backup = services.backup!;
  backup.environment = { ...backup.environment, ...replication };
  // pitr.sh hands the unpacked base backup to postgres and runs the scratch
  // server as postgres (su).
  backup.capabilities = ["CHOWN", "SETUID", "SETGID"];
  backup.mounts = [
    ...backup.mounts!,
    { source: "archive", target: "/archive" },
    { source: `file:${pitrScriptFile}`, target: `/etc/provisioner/${pitrScriptFile}`, readOnly: true },
  ];

  return {
    project: ctx.project,
    labels: ctx.labels,
    services,
    volumes: ["pgdata", "backups", "archive", "replica-data"],
    files: {
      [backupScriptFile]: backupScript.replace("set -eu\n", `set -eu\n${baseBackupAddition}`),
      [primaryInitFile]: primaryInitScript,
      [appRoleFile]: appRoleScript,
      [replicaScriptFile]: replicaScript,
      [pitrScriptFile]: pitrScript,
    },
    beforeUp: backupBeforeImageChange({
      database: "postgres",
      backup: "backup",
      image: ctx.images.postgres,
      backupScript: `/etc/provisioner/${backupScriptFile}`,
    }),
  };
}

export const postgresMedium: Template<PostgresOptions> = {
  ...postgresSmall,
  id: "postgres-medium",
  description: "postgres-small plus a streaming read replica and WAL archiving for point-in-time recovery",
  sizes: postgresMediumSizes,
  defaultSize: "medium",
  sizeUnit: "each database server, the primary and the replica (PgBouncer and the backup sidecar come on top)",
  portNames: () => ["pgbouncer", "replica"],
  secrets: () => ({ password: 24, replicationPassword: 24 }),
  build,
  // Primary, replica, WAL archive and base backups.
  dataGb: (size) => 4 * size.storageGb,
  managedService: { engine: "postgresql", readReplica: true },
  outputs: (ctx) => {
    const small = postgresSmall.outputs(ctx);
    const { database } = databaseNames(ctx.project);
    return {
      endpoint: {
        ...small.endpoint,
        replicaPort: String(ctx.ports.replica),
        replicaUrl: `postgresql://${ctx.publicHost}:${ctx.ports.replica}/${database}`,
      },
      credentials: small.credentials,
    };
  },
};
