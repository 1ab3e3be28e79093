// Service configuration: parsed and validated once at start; every key is
// documented in the README's configuration table.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { resolveImages, type ImageSet } from "../components/images.js";
import { cloudSettingsFrom, type CloudSettings } from "./cloud-settings.js";
import { parseKeyring, type Keyring } from "./credentials-cipher.js";
import { logFormats } from "./logger.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(repoRoot, ".data");

export interface FairUseLimits {
  queuedPerResource: number;
  queuedPerTeam: number;
  eventStreamsPerTeam: number;
}

export const fairUseDefaults: FairUseLimits = { queuedPerResource: 10, queuedPerTeam: 100, eventStreamsPerTeam: 10 };

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

const schema = z.object({
  NODE_ENV: z.string().default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().url({ message: "must be a postgresql:// URL" }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Read by createLogger before the configuration (to log its errors); checked here so a typo fails fast.
  LOG_FORMAT: z.enum(logFormats).optional(),
  PULUMI_BACKEND_URL: z
    .string()
    .min(1)
    .default(`file://${path.join(dataDir, "pulumi-state")}`),
  PULUMI_CONFIG_PASSPHRASE: z.string().min(16, { message: "must be set (at least 16 characters): it encrypts the stacks' secrets" }),
  PROVISIONER_CREDENTIALS_KEYS: z.string({ message: "must be set: <key id>:<32 bytes base64>[,<older key id>:<key>...]" }),
  PROVISIONER_PROJECTS_DIR: z.string().min(1).default(path.join(dataDir, "projects")),
  PROVISIONER_BACKUPS_DIR: z.string().min(1).default(path.join(dataDir, "backups")),
  BACKUP_RETENTION_AFTER_DELETE_DAYS: z.coerce.number().min(0).default(7),
  // Resources on this machine's Docker host answer only on loopback unless the operator says otherwise.
  PROVISIONER_PUBLISH_IP: z.string().min(1).default("127.0.0.1"),
  PROVISIONER_PUBLIC_HOST: z.string().min(1).default("127.0.0.1"),
  OPERATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  OPERATION_LEASE_SECONDS: seconds(30),
  OPERATION_CANCEL_TIMEOUT_SECONDS: seconds(30),
  OPERATION_QUEUE_PER_RESOURCE: z.coerce.number().int().min(1).default(fairUseDefaults.queuedPerResource),
  OPERATION_QUEUE_PER_TEAM: z.coerce.number().int().min(1).default(fairUseDefaults.queuedPerTeam),
  EVENT_STREAMS_PER_TEAM: z.coerce.number().int().min(1).default(fairUseDefaults.eventStreamsPerTeam),
  HEALTH_TIMEOUT_SECONDS: seconds(300),
  // Empty is unset: the discovery endpoint is off.
  PROVISIONER_SCRAPE_TOKEN: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().min(16, { message: "must be at least 16 characters" }).optional(),
  ),
  HEALTH_CHECK_INTERVAL_SECONDS: z.coerce.number().min(0).default(30),
  HEALTH_CHECK_TIMEOUT_SECONDS: seconds(5),
  HEALTH_MAX_REPLICA_LAG_SECONDS: seconds(60),
});

export interface Config {
  production: boolean;
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: string;
  pulumiBackendUrl: string;
  passphrase: string;
  keyring: Keyring;
  projectsDir: string;
  /** The local Docker host's backup stores (one folder per resource, apart from it). */
  backupsDir: string;
  /** How long a deleted database's store (its final dump) is kept. */
  backupRetentionAfterDeleteDays: number;
  publishIp: string;
  publicHost: string;
  images: ImageSet;
  /** The cloud targets this instance offers (credentials from the environment). */
  cloud: CloudSettings;
  operations: { concurrency: number; leaseSeconds: number; cancelTimeoutSeconds: number; healthTimeoutSeconds: number };
  /** Fair use: queued operations per resource and per team, open event streams per team (per instance). */
  limits: FairUseLimits;
  /** Bearer token of GET /v1/prometheus/targets; undefined: the endpoint is off. */
  scrapeToken?: string;
  /** The health monitor of ACTIVE/DEGRADED resources; intervalSeconds 0 turns it off. */
  healthChecks: { intervalSeconds: number; timeoutSeconds: number; maxReplicaLagSeconds: number };
}

export class ConfigError extends Error {}

/**
 * Outside development the service refuses to start without its secrets. In
 * development (`npm start`) the bootstrap generates them once into .data/.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Prometheus reads the token from a file (credentials_file): the same file can feed the service.
  if (!env.PROVISIONER_SCRAPE_TOKEN && env.PROVISIONER_SCRAPE_TOKEN_FILE) {
    try {
      env = { ...env, PROVISIONER_SCRAPE_TOKEN: fs.readFileSync(env.PROVISIONER_SCRAPE_TOKEN_FILE, "utf8").trim() };
    } catch (error) {
      throw new ConfigError(`invalid configuration: PROVISIONER_SCRAPE_TOKEN_FILE: ${(error as Error).message}`);
    }
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  let keyring: Keyring;
  try {
    keyring = parseKeyring(c.PROVISIONER_CREDENTIALS_KEYS);
  } catch (error) {
    throw new ConfigError(`invalid configuration: PROVISIONER_CREDENTIALS_KEYS: ${(error as Error).message}`);
  }
  return {
    production: c.NODE_ENV === "production",
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    logLevel: c.LOG_LEVEL,
    pulumiBackendUrl: c.PULUMI_BACKEND_URL,
    passphrase: c.PULUMI_CONFIG_PASSPHRASE,
    keyring,
    projectsDir: c.PROVISIONER_PROJECTS_DIR,
    backupsDir: c.PROVISIONER_BACKUPS_DIR,
    backupRetentionAfterDeleteDays: c.BACKUP_RETENTION_AFTER_DELETE_DAYS,
    publishIp: c.PROVISIONER_PUBLISH_IP,
    publicHost: c.PROVISIONER_PUBLIC_HOST,
    images: resolveImages(env),
    cloud: cloudSettingsFrom(env),
    operations: {
      concurrency: c.OPERATION_CONCURRENCY,
      leaseSeconds: c.OPERATION_LEASE_SECONDS,
      cancelTimeoutSeconds: c.OPERATION_CANCEL_TIMEOUT_SECONDS,
      healthTimeoutSeconds: c.HEALTH_TIMEOUT_SECONDS,
    },
    limits: {
      queuedPerResource: c.OPERATION_QUEUE_PER_RESOURCE,
      queuedPerTeam: c.OPERATION_QUEUE_PER_TEAM,
      eventStreamsPerTeam: c.EVENT_STREAMS_PER_TEAM,
    },
    scrapeToken: c.PROVISIONER_SCRAPE_TOKEN,
    healthChecks: {
      intervalSeconds: c.HEALTH_CHECK_INTERVAL_SECONDS,
      timeoutSeconds: c.HEALTH_CHECK_TIMEOUT_SECONDS,
      maxReplicaLagSeconds: c.HEALTH_MAX_REPLICA_LAG_SECONDS,
    },
  };
}
