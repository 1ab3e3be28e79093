// Where the Pulumi state lives. By default in its own database of the
// control plane's Postgres (the CLI's `postgres://` backend), so every service
// instance sees every stack and one backup holds both; any other backend URL
// (`file://`, `s3://`, ...) is still accepted through PULUMI_BACKEND_URL.
//
// The password never goes into the URL the CLI gets: `pulumi login` and some
// errors print that URL. The CLI's Postgres driver (lib/pq) reads PGPASSWORD
// from its environment instead, and what the CLI prints is redacted of it.
import pg from "pg";

/** The table the CLI's Postgres backend keeps its blobs in (its default). */
export const stateTable = "pulumi_state";

export interface PulumiBackend {
  /** PULUMI_BACKEND_URL as the CLI gets it: never with a password. */
  url: string;
  /** What the CLI needs in its environment besides (PGPASSWORD of a postgres:// backend). */
  env: Record<string, string>;
  /** Values to redact from whatever the CLI prints. */
  secrets: string[];
  /** A postgres:// backend: the database (created at start when missing) and how to reach its server. */
  postgres?: { database: string; serverUrl: string };
}

/** The state database beside a control-plane database: `<its name>_pulumi`. */
export function stateDatabaseName(controlPlaneDatabase: string): string {
  return `${controlPlaneDatabase}_pulumi`;
}

/**
 * lib/pq passes unknown query parameters to the server as settings (Prisma's
 * `schema=` would fail the connection), and defaults to sslmode=require where
 * libpq prefers: only these are carried over, sslmode defaulting to disable
 * when the control-plane URL names none (a local cluster has no TLS).
 */
const carriedParameters = ["sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"];

function postgresBackend(source: URL, database: string, extra: URLSearchParams): PulumiBackend {
  const password = decodeURIComponent(source.password);
  const url = new URL(`postgres://${source.host}/${encodeURIComponent(database)}`);
  url.username = source.username;
  for (const name of carriedParameters) {
    const value = extra.get(name) ?? source.searchParams.get(name);
    if (value !== null) url.searchParams.set(name, value);
  }
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  const table = extra.get("table");
  if (table) url.searchParams.set("table", table);
  const server = new URL(source.href);
  server.pathname = "/";
  server.search = "";
  if (source.searchParams.get("sslmode")) server.searchParams.set("sslmode", source.searchParams.get("sslmode")!);
  return {
    url: url.href,
    env: password ? { PGPASSWORD: password } : {},
    secrets: password ? [password, source.password] : [],
    postgres: { database, serverUrl: server.href },
  };
}

/**
 * The backend from PULUMI_BACKEND_URL, else the control plane's Postgres.
 * A postgres:// URL given with a password has it moved to PGPASSWORD.
 */
export function resolvePulumiBackend(backendUrl: string | undefined, databaseUrl: string): PulumiBackend {
  if (!backendUrl) {
    const controlPlane = new URL(databaseUrl);
    const database = decodeURIComponent(controlPlane.pathname.replace(/^\//, "")) || "postgres";
    return postgresBackend(controlPlane, stateDatabaseName(database), new URLSearchParams());
  }
  if (/^postgres(ql)?:\/\//.test(backendUrl)) {
    const given = new URL(backendUrl);
    const database = decodeURIComponent(given.pathname.replace(/^\//, "")) || "postgres";
    // The CLI registers `postgres://` only.
    return postgresBackend(given, database, given.searchParams);
  }
  return { url: backendUrl, env: {}, secrets: [] };
}

/** `postgres://user@host:port/db` for logs: the URL the CLI gets (password-free by construction). */
export function describeBackend(backend: PulumiBackend): string {
  return backend.url.replace(/\?.*$/, "");
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.href;
}

/** What was done to a postgres:// backend's database: true when it was created now. */
export interface StateDatabaseReport {
  created: boolean;
}

/**
 * Creates the state database when missing, and its table (the CLI's own
 * schema, so a first CLI run finds it ready and a role without CREATE on the
 * database can still use it). Idempotent; safe when instances start at once.
 * Nothing to do for other backends.
 */
export async function ensureStateDatabase(backend: PulumiBackend): Promise<StateDatabaseReport> {
  if (!backend.postgres) return { created: false };
  const { database, serverUrl } = backend.postgres;
  let created = false;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) {
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
        created = true;
      } catch (error) {
        // Another instance created it between the check and here.
        if ((error as { code?: string }).code !== "42P04" && (error as { code?: string }).code !== "23505") throw error;
      }
    }
  } finally {
    await admin.end();
  }
  const state = new pg.Client({ connectionString: withDatabase(serverUrl, database) });
  await state.connect();
  try {
    const table = pg.escapeIdentifier(new URL(backend.url).searchParams.get("table") ?? stateTable);
    // pulumi/pkg/backend/diy/postgres/schema.sql (v3.230.0); serialized: two instances may start together.
    await state.query("SELECT pg_advisory_lock(hashtext('provisioner pulumi_state schema'))");
    await state.query(`CREATE TABLE IF NOT EXISTS ${table} (
      key TEXT PRIMARY KEY,
      data JSON NOT NULL,
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`);
    await state.query(`CREATE INDEX IF NOT EXISTS ${pg.escapeIdentifier(`${table.replaceAll('"', "")}_key_prefix_idx`)}
      ON ${table} (key text_pattern_ops)`);
  } finally {
    await state.end();
  }
  return { created };
}
