// postgres-medium: postgres-small plus a streaming read replica (published,
// read-only) and WAL archiving into the backup store with scheduled base
// backups for point-in-time recovery (a restore is a new resource:
// postgres-backup.ts).
import type { SystemModel } from "../model/system.js";
import { restoreScript, restoreScriptFile, walArchiveMount } from "./postgres-backup.js";
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
    // A replica that is away keeps WAL for it up to this much; then its slot
    // is invalidated (it must be cloned again) rather than the disk filling.
    "-c",
    `max_slot_wal_keep_size=${Math.max(1024, Math.round(ctx.size.storageGb * 1024 * 0.1))}MB`,
  ];
  primary.environment = { ...primary.environment, ...replication };
  // On a target with several machines, a replica on the primary's machine protects nothing.
  const spread = { group: "postgres", required: true };
  primary.spread = spread;
  primary.mounts = [
    ...primary.mounts!,
    // The WAL archive is in the backup store: point-in-time recovery outlives the resource.
    walArchiveMount(ctx),
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

  // Scheduled base backups (and their pruning, and the WAL archive's) beside the dumps.
  const backup = services.backup!;
  backup.environment = { ...backup.environment, ...replication, BACKUP_BASE: "1" };
  // Prunes the WAL archive, which is postgres', as postgres (su).
  backup.capabilities = ["SETUID", "SETGID"];

  return {
    project: ctx.project,
    labels: ctx.labels,
    services,
    volumes: ["pgdata", "replica-data"],
    files: {
      ...(ctx.restoreFrom ? { [restoreScriptFile]: restoreScript } : {}),
      [backupScriptFile]: backupScript,
      [primaryInitFile]: primaryInitScript,
      [appRoleFile]: appRoleScript,
      [replicaScriptFile]: replicaScript,
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
  // Primary, replica, and the backup store: WAL archive, base backups and dumps.
  dataGb: (size) => 4 * size.storageGb,
  backupStoreGb: (size) => 2 * size.storageGb,
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
