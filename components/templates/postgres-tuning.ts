// PostgreSQL and PgBouncer settings derived from a size: what the postgres
// templates run with (the README's tuning table is this arithmetic).
import type { SizeSpec } from "./sizes.js";

export interface PostgresSettings {
  maxConnections: number;
  sharedBuffersMb: number;
  effectiveCacheSizeMb: number;
  workMemMb: number;
  maintenanceWorkMemMb: number;
  /** /dev/shm of the container (parallel queries' dynamic shared memory; Docker's default is 64 MB). */
  shmMb: number;
}

/** The most max_connections any size gets: a recovery from any primary's base backup may run with this many. */
export const maxConnectionsCeiling = 500;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The usual rules of thumb for a dedicated server (PGTune's, for OLTP):
 * shared_buffers a quarter of the memory, effective_cache_size three
 * quarters; work_mem what is left after shared_buffers shared by three sorts
 * per connection; 25 connections per GB (100 to 500), well above what the
 * pooler opens (poolerSettings), so backups and admins always get in.
 */
export function postgresSettings(size: SizeSpec): PostgresSettings {
  const memoryMb = size.memoryMb;
  const maxConnections = clamp(Math.round((25 * memoryMb) / 1024), 100, maxConnectionsCeiling);
  const sharedBuffersMb = Math.floor(memoryMb / 4);
  return {
    maxConnections,
    sharedBuffersMb,
    effectiveCacheSizeMb: Math.floor((memoryMb * 3) / 4),
    workMemMb: Math.max(4, Math.floor((memoryMb - sharedBuffersMb) / (maxConnections * 3))),
    maintenanceWorkMemMb: clamp(Math.floor(memoryMb / 16), 64, 2048),
    shmMb: clamp(Math.floor(memoryMb / 8), 64, 2048),
  };
}

/** `postgres -c` arguments of the settings. */
export function postgresArgs(settings: PostgresSettings): string[] {
  return [
    `max_connections=${settings.maxConnections}`,
    `shared_buffers=${settings.sharedBuffersMb}MB`,
    `effective_cache_size=${settings.effectiveCacheSizeMb}MB`,
    `work_mem=${settings.workMemMb}MB`,
    `maintenance_work_mem=${settings.maintenanceWorkMemMb}MB`,
  ].flatMap((setting) => ["-c", setting]);
}

export interface PoolerSettings {
  /** Clients PgBouncer accepts (each one a file descriptor). */
  maxClientConn: number;
  /** Server connections per database and user. */
  defaultPoolSize: number;
  /** Extra server connections for a pool whose clients waited reserve_pool_timeout (5 s). */
  reservePoolSize: number;
  /** Server connections to the database at most: pool + reserve, below the server's max_connections. */
  maxDbConnections: number;
  /** The container's open-files limit: every client and server connection, and some room. */
  nofile: number;
  /** PgBouncer's memory limit: about 25 KB per client. */
  memoryMb: number;
}

/**
 * Clients are cheap to PgBouncer (a socket and a small buffer), server
 * connections are what the database pays for: at least 10,000 clients (5,000
 * per CPU above that), 10 server connections per CPU of the database plus a
 * quarter in reserve for bursts.
 */
export function poolerSettings(size: SizeSpec, hostOpenFiles?: number): PoolerSettings {
  const wanted = Math.max(10_000, 5_000 * Math.ceil(size.cpus));
  const defaultPoolSize = Math.max(10, Math.round(10 * size.cpus));
  const reservePoolSize = Math.ceil(defaultPoolSize / 4);
  // A host whose containers may not open that many files: as many clients as its limit leaves room for.
  const nofile = Math.min(wanted + spareFiles, hostOpenFiles ?? Infinity);
  const maxClientConn = Math.min(wanted, nofile - spareFiles);
  return {
    maxClientConn,
    defaultPoolSize,
    reservePoolSize,
    maxDbConnections: defaultPoolSize + reservePoolSize,
    nofile,
    // Sized for the clients wanted: the quota does not depend on the host.
    memoryMb: Math.ceil((wanted * 25) / 1024 / 64) * 64,
  };
}

/** Files beside the clients: server connections, the listening sockets, logs. */
const spareFiles = 1024;
