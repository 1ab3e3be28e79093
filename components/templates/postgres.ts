// postgres-small: PostgreSQL behind PgBouncer (published, SCRAM), with a backup
// sidecar writing a verified pg_dump every day (or every N minutes) into the
// resource's backup store and keeping the last N (postgres-backup.ts).
import type { ServiceSpec, SystemModel } from "../model/system.js";
import { z } from "zod";
import { poolerSettings, postgresArgs, postgresSettings } from "./postgres-tuning.js";
import type { TemplateSizes } from "./sizes.js";
import { backupBeforeImageChange } from "./upgrade-steps.js";
import { healthCheck, integerOption, optionsObject, type Template, type TemplateContext } from "./template.js";
import {
  backupScript,
  backupScriptFile,
  backupSidecar,
  restoreFailedMarker,
  restoreMounts,
  restoreScript,
  restoreScriptFile,
} from "./postgres-backup.js";

export interface PostgresOptions {
  /** Daily backup time, HH:MM in UTC. */
  backupTime: string;
  /** Number of dumps kept. */
  backupRetention: number;
  /** Back up every N minutes; 0: daily at backupTime. */
  backupIntervalMinutes: number;
  poolMode: "session" | "transaction";
}

export { backupScript, backupScriptFile } from "./postgres-backup.js";

export const postgresOptions: z.ZodType<PostgresOptions> = optionsObject({
  backupTime: z
    .string({ error: "must be a time of day, HH:MM (UTC)" })
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day, HH:MM (UTC)" })
    .default("02:00")
    .meta({ description: "Daily backup time, HH:MM in UTC." }),
  backupRetention: integerOption(1, 365).default(7).meta({ description: "Number of dumps kept." }),
  backupIntervalMinutes: integerOption(0, 1440)
    .default(0)
    .meta({ description: "Back up every N minutes instead of daily at backupTime (0: daily)." }),
  poolMode: z
    .enum(["session", "transaction"], { error: 'must be "session" or "transaction"' })
    .default("transaction")
    .meta({ description: "PgBouncer's pool mode." }),
});

/** Database and role names come from the resource name (a DNS label, so only [a-z0-9-]). */
export function databaseNames(project: string): { database: string; role: string } {
  const database = project.replaceAll("-", "_");
  return { database, role: `${database}_app`.slice(0, 63) };
}

/**
 * Runs once, at the first start: the resource's role owns its database (it
 * can create and drop what it likes there, and create databases) but is not
 * a superuser, so it cannot reach the server's files or programs (`COPY ... TO
 * PROGRAM`). The password comes through a here-document, not a command line,
 * which the host's `ps` would show.
 */
export const appRoleScript = `#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE "$PROVISIONER_APP_ROLE" WITH LOGIN CREATEDB PASSWORD '$PROVISIONER_APP_PASSWORD';
ALTER DATABASE "$POSTGRES_DB" OWNER TO "$PROVISIONER_APP_ROLE";
SQL
`;
export const appRoleFile = "app-role.sh";

/**
 * The server's entry point: the image's own, with a superuser password made
 * up at each start and kept by no one. The image refuses to initialise
 * without one; after that the superuser logs in only through the local
 * socket (trust), from inside the container.
 */
export function serverEntrypoint(prelude = ""): string[] {
  return [
    "sh",
    "-c",
    `${prelude}export POSTGRES_PASSWORD="$(od -An -vtx1 -N24 /dev/urandom | tr -d ' \\n')"; exec docker-entrypoint.sh "$@"`,
    "--",
  ];
}

/**
 * postgres-small's sizes: the database server's limits and its data volume
 * (small is the design's 2 vCPU / 4 GB / 10 GB). PgBouncer and the backup
 * sidecar come on top (postgresServices).
 */
export const postgresSmallSizes: TemplateSizes = {
  small: { cpus: 2, memoryMb: 4096, storageGb: 10 },
  medium: { cpus: 4, memoryMb: 8192, storageGb: 25 },
  large: { cpus: 8, memoryMb: 16384, storageGb: 50 },
};

export function postgresServices(ctx: TemplateContext<PostgresOptions>): Record<string, ServiceSpec> {
  const { database, role } = databaseNames(ctx.project);
  const password = ctx.secrets.password!;
  const limits = { cpus: ctx.size.cpus, memoryMb: ctx.size.memoryMb };
  const server = postgresSettings(ctx.size);
  const pooler = poolerSettings(ctx.size, ctx.hostOpenFiles);
  // What the backup sidecar connects as: the resource's role, owner of its database.
  const appEnv = { POSTGRES_USER: role, POSTGRES_PASSWORD: password, POSTGRES_DB: database };
  const restore = restoreMounts(ctx);
  return {
    postgres: {
      image: ctx.images.postgres,
      entrypoint: serverEntrypoint(),
      command: ["postgres", ...postgresArgs(server)],
      environment: {
        POSTGRES_USER: "postgres",
        POSTGRES_DB: database,
        POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256",
        PROVISIONER_APP_ROLE: role,
        PROVISIONER_APP_PASSWORD: password,
        ...restore.environment,
      },
      mounts: [
        { source: "pgdata", target: "/var/lib/postgresql/data" },
        { source: `file:${appRoleFile}`, target: `/docker-entrypoint-initdb.d/010-${appRoleFile}`, readOnly: true },
        ...restore.mounts,
      ],
      // A restore runs before the server listens: its health may take as long as the deployment waits.
      healthCheck: ctx.restoreFrom
        ? {
            ...healthCheck([
              "CMD-SHELL",
              `[ ! -e "$PGDATA/${restoreFailedMarker}" ] && pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"`,
            ]),
            startPeriodSeconds: 3600,
          }
        : healthCheck(["CMD-SHELL", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"']),
      limits,
      shmMb: server.shmMb,
      restart: "unless-stopped",
      // Both images give this user the data directory: started as it, the
      // entry point needs no capability (as root it would chown, then gosu).
      user: "postgres",
    },
    pgbouncer: {
      image: ctx.images.pgbouncer,
      environment: {
        DB_HOST: "postgres",
        DB_PORT: "5432",
        DB_USER: role,
        DB_PASSWORD: password,
        DB_NAME: database,
        AUTH_TYPE: "scram-sha-256",
        POOL_MODE: ctx.options.poolMode,
        LISTEN_PORT: "5432",
        ADMIN_USERS: role,
        // Sized from the database server's size (postgres-tuning.ts).
        MAX_CLIENT_CONN: String(pooler.maxClientConn),
        DEFAULT_POOL_SIZE: String(pooler.defaultPoolSize),
        RESERVE_POOL_SIZE: String(pooler.reservePoolSize),
        MAX_DB_CONNECTIONS: String(pooler.maxDbConnections),
      },
      ports: [{ host: ctx.ports.pgbouncer!, container: 5432, hostIp: ctx.publishIp }],
      dependsOn: ["postgres"],
      // PgBouncer runs one thread: more than one CPU is never used.
      limits: { cpus: 1, memoryMb: pooler.memoryMb },
      nofile: pooler.nofile,
      restart: "unless-stopped",
      user: "postgres",
    },
    backup: backupSidecar(ctx, appEnv, { baseBackups: false }),
  };
}

export const postgresSmall: Template<PostgresOptions> = {
  id: "postgres-small",
  description: "PostgreSQL behind PgBouncer (SCRAM), with daily pg_dump backups",
  sizes: postgresSmallSizes,
  defaultSize: "small",
  sizeUnit: "the database server (PgBouncer and the backup sidecar come on top)",
  options: postgresOptions,
  portNames: () => ["pgbouncer"],
  secrets: () => ({ password: 24 }),
  build: (ctx): SystemModel => ({
    project: ctx.project,
    labels: ctx.labels,
    services: postgresServices(ctx),
    volumes: ["pgdata"],
    files: {
      [backupScriptFile]: backupScript,
      [appRoleFile]: appRoleScript,
      ...(ctx.restoreFrom ? { [restoreScriptFile]: restoreScript } : {}),
    },
    beforeUp: backupBeforeImageChange({
      database: "postgres",
      backup: "backup",
      image: ctx.images.postgres,
      backupScript: `/etc/provisioner/${backupScriptFile}`,
    }),
  }),
  outputs: (ctx) => {
    const { database, role } = databaseNames(ctx.project);
    const host = `${ctx.publicHost}:${ctx.ports.pgbouncer}`;
    return {
      endpoint: { host: ctx.publicHost, port: String(ctx.ports.pgbouncer), database, url: `postgresql://${host}/${database}` },
      credentials: {
        username: role,
        password: ctx.secrets.password!,
        connectionString: `postgresql://${role}:${ctx.secrets.password}@${host}/${database}`,
      },
    };
  },
  // Data and the dumps (the store is on the same disk).
  // The database and its backup store (dumps).
  dataGb: (size) => 2 * size.storageGb,
  backupStoreGb: (size) => size.storageGb,
  managedService: { engine: "postgresql", readReplica: false },
  healthProbe: "postgres",
  // No exporter image is part of the catalogue: the health monitor's gauges cover PostgreSQL.
  scrapeTargets: () => [],
};
