// Service configuration: parsed and validated once at start; every key is
// documented in the README's configuration table.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { resolveImages, type ImageSet } from "../components/images.js";
import { cloudSettingsFrom, type CloudSettings } from "./cloud-settings.js";
import { parseKeyring, type Keyring } from "./credentials-cipher.js";
import { logFormats } from "./logger.js";
import { resolvePulumiBackend, type PulumiBackend } from "./pulumi-backend.js";

/** The checkout: above core/ when run from the sources, above .build/app-<hash>/core/ when compiled (tools/bootstrap/compile.ts). */
function checkoutOf(dir: string): string {
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

const repoRoot = checkoutOf(path.resolve(import.meta.dirname, ".."));
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
  // Unset or empty: the control plane's Postgres (core/pulumi-backend.ts).
  PULUMI_BACKEND_URL: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(1).optional()),
  // The Docker host this instance reaches (its local engine): its resources' operations run only on instances naming it.
  PROVISIONER_DOCKER_HOST_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, { message: "must be a lower-case name (letters, digits, '.', '-')" })
    .default("local"),
  // This instance, in /readyz, metrics and the operations it ran: the host name unless named.
  PROVISIONER_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: "must be letters, digits, '.', '_' or '-'" })
    .optional(),
  PULUMI_CONFIG_PASSPHRASE: z.string().min(16, { message: "must be set (at least 16 characters): it encrypts the stacks' secrets" }),
  PROVISIONER_CREDENTIALS_KEYS: z.string({ message: "must be set: <key id>:<32 bytes base64>[,<older key id>:<key>...]" }),
  PROVISIONER_PROJECTS_DIR: z.string().min(1).default(path.join(dataDir, "projects")),
  PROVISIONER_BACKUPS_DIR: z.string().min(1).default(path.join(dataDir, "backups")),
  BACKUP_RETENTION_AFTER_DELETE_DAYS: z.coerce.number().min(0).default(7),
  // How often each database's latest backups are restored into a scratch container and checked; 0: never.
  BACKUP_VERIFY_INTERVAL_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 31)
    .default(24),
  // Resources on this machine's Docker host answer only on loopback unless the operator says otherwise.
  PROVISIONER_PUBLISH_IP: z.string().min(1).default("127.0.0.1"),
  PROVISIONER_PUBLIC_HOST: z.string().min(1).default("127.0.0.1"),
  OPERATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // Unset: OPERATION_CONCURRENCY (one instance may take all the slots).
  OPERATION_INSTANCE_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  OPERATION_LEASE_SECONDS: seconds(30),
  OPERATION_CANCEL_TIMEOUT_SECONDS: seconds(30),
  OPERATION_QUEUE_PER_RESOURCE: z.coerce.number().int().min(1).default(fairUseDefaults.queuedPerResource),
  OPERATION_QUEUE_PER_TEAM: z.coerce.number().int().min(1).default(fairUseDefaults.queuedPerTeam),
  EVENT_STREAMS_PER_TEAM: z.coerce.number().int().min(1).default(fairUseDefaults.eventStreamsPerTeam),
  HEALTH_TIMEOUT_SECONDS: seconds(300),
  // Test only: volumes of N MB per GB of their size, so a test fills one quickly.
  PROVISIONER_TEST_VOLUME_MB_PER_GB: z.coerce.number().int().min(1).max(1024).optional(),
  // Empty is unset: the discovery endpoint is off.
  PROVISIONER_SCRAPE_TOKEN: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().min(16, { message: "must be at least 16 characters" }).optional(),
  ),
  HEALTH_CHECK_INTERVAL_SECONDS: z.coerce.number().min(0).default(30),
  HEALTH_CHECK_TIMEOUT_SECONDS: seconds(5),
  HEALTH_MAX_REPLICA_LAG_SECONDS: seconds(60),
  // The web console (issue 14): the folder of its build (the bootstrap builds it and sets this), and how long a sign-in lasts.
  PROVISIONER_CONSOLE_DIR: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  CONSOLE_SESSION_HOURS: z.coerce.number().positive().max(720).default(12),
  // Webhooks (issue 12): the delivery rounds (0: off), each request's time, the retries' schedule.
  WEBHOOK_DELIVERY_INTERVAL_SECONDS: z.coerce.number().min(0).default(2),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().max(60).default(10),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  WEBHOOK_RETRY_BASE_SECONDS: seconds(30),
  // Teams do not trust each other: a webhook may not reach the service's own network unless the operator says so.
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: z
    .enum(["true", "false", "1", "0", ""], { message: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  // Billing (issue 15): without a Stripe key, usage is metered and priced but reported nowhere.
  STRIPE_API_KEY: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(8).optional()),
  STRIPE_API_BASE: z.preprocess((v) => (v === "" ? undefined : v), z.url({ protocol: /^https?$/ }).optional()),
  STRIPE_METER_EVENT_NAME: z
    .string()
    .regex(/^[a-z0-9_]{1,100}$/, "lower-case letters, digits and _")
    .default("provisioner_usage_cents"),
  USAGE_REPORT_INTERVAL_SECONDS: z.coerce.number().min(0).default(300),
  BUDGET_CHECK_INTERVAL_SECONDS: z.coerce.number().min(0).default(300),
});

export interface Config {
  production: boolean;
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: string;
  /** PULUMI_BACKEND_URL as the CLI gets it (never with a password). */
  pulumiBackendUrl: string;
  /** The backend, with what the CLI needs in its environment (PGPASSWORD) and must never print. */
  pulumiBackend: PulumiBackend;
  /** This instance's name (PROVISIONER_INSTANCE_ID, else the host name). */
  instanceId: string;
  /** The Docker host this instance deploys to; resources on it are run only by instances naming it. */
  dockerHostId: string;
  passphrase: string;
  keyring: Keyring;
  projectsDir: string;
  /** The local Docker host's backup stores (one folder per resource, apart from it). */
  backupsDir: string;
  /** How long a deleted database's store (its final dump) is kept. */
  backupRetentionAfterDeleteDays: number;
  /** Between two verified restores of a database's latest backups (0: off). */
  backupVerifyIntervalHours: number;
  /** Test only: MB per GB of a volume's size (unset: 1024). */
  volumeMbPerGb?: number;
  publishIp: string;
  publicHost: string;
  images: ImageSet;
  /** The cloud targets this instance offers (credentials from the environment). */
  cloud: CloudSettings;
  /** concurrency: across all instances; instanceConcurrency: in this one. */
  operations: {
    concurrency: number;
    instanceConcurrency: number;
    leaseSeconds: number;
    cancelTimeoutSeconds: number;
    healthTimeoutSeconds: number;
  };
  /** Fair use: queued operations per resource and per team, open event streams per team (per instance). */
  limits: FairUseLimits;
  /** Bearer token of GET /v1/prometheus/targets; undefined: the endpoint is off. */
  scrapeToken?: string;
  /** The health monitor of ACTIVE/DEGRADED resources; intervalSeconds 0 turns it off. */
  healthChecks: { intervalSeconds: number; timeoutSeconds: number; maxReplicaLagSeconds: number };
  /** The web console: its built files (undefined: not served) and the lifetime of a sign-in. */
  console: { dir?: string; sessionHours: number };
  /** Webhook deliveries (api/webhook-delivery.ts); intervalSeconds 0 turns them off. */
  webhooks: WebhookSettings;
  /** Usage reporting to Stripe (api/usage-reporter.ts) and the budget checks (core/budget.ts). */
  billing: BillingSettings;
}

export interface BillingSettings {
  /** Stripe's secret key; undefined: billing (reporting to Stripe) is off. Never logged. */
  stripeApiKey?: string;
  /** Another Stripe API base (stripe-mock in the tests), e.g. http://127.0.0.1:12111. */
  stripeApiBase?: string;
  /** The Billing Meter's event name the usage is reported under (its value: cents). */
  meterEventName: string;
  /** Between two reporting rounds (0: off). */
  reportIntervalSeconds: number;
  /** Between two budget checks of every team with a budget (0: off; creates still check). */
  budgetCheckIntervalSeconds: number;
}

export interface WebhookSettings {
  /** Between two delivery rounds (once across all instances). */
  intervalSeconds: number;
  /** One request's limit, connection to last byte. */
  timeoutSeconds: number;
  /** Attempts before a delivery is given up (FAILED). */
  maxAttempts: number;
  /** The wait after the first failure; doubled after each next one, capped at webhookRetryCapSeconds. */
  retryBaseSeconds: number;
  /** Whether private, loopback and link-local destinations are allowed (a single-tenant or test service). */
  allowPrivateDestinations: boolean;
}

/** The longest wait between two attempts of a delivery. */
export const webhookRetryCapSeconds = 3600;

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
  let pulumiBackend: PulumiBackend;
  try {
    pulumiBackend = resolvePulumiBackend(c.PULUMI_BACKEND_URL, c.DATABASE_URL);
  } catch {
    // The URL itself is not repeated: it may hold a password.
    throw new ConfigError("invalid configuration: PULUMI_BACKEND_URL: not a URL");
  }
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
    pulumiBackendUrl: pulumiBackend.url,
    pulumiBackend,
    instanceId: c.PROVISIONER_INSTANCE_ID ?? os.hostname(),
    dockerHostId: c.PROVISIONER_DOCKER_HOST_ID,
    passphrase: c.PULUMI_CONFIG_PASSPHRASE,
    keyring,
    projectsDir: c.PROVISIONER_PROJECTS_DIR,
    backupsDir: c.PROVISIONER_BACKUPS_DIR,
    backupRetentionAfterDeleteDays: c.BACKUP_RETENTION_AFTER_DELETE_DAYS,
    backupVerifyIntervalHours: c.BACKUP_VERIFY_INTERVAL_HOURS,
    volumeMbPerGb: c.PROVISIONER_TEST_VOLUME_MB_PER_GB,
    publishIp: c.PROVISIONER_PUBLISH_IP,
    publicHost: c.PROVISIONER_PUBLIC_HOST,
    images: resolveImages(env),
    cloud: cloudSettingsFrom(env),
    operations: {
      concurrency: c.OPERATION_CONCURRENCY,
      instanceConcurrency: Math.min(c.OPERATION_INSTANCE_CONCURRENCY ?? c.OPERATION_CONCURRENCY, c.OPERATION_CONCURRENCY),
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
    console: { dir: c.PROVISIONER_CONSOLE_DIR, sessionHours: c.CONSOLE_SESSION_HOURS },
    webhooks: {
      intervalSeconds: c.WEBHOOK_DELIVERY_INTERVAL_SECONDS,
      timeoutSeconds: c.WEBHOOK_TIMEOUT_SECONDS,
      maxAttempts: c.WEBHOOK_MAX_ATTEMPTS,
      retryBaseSeconds: c.WEBHOOK_RETRY_BASE_SECONDS,
      allowPrivateDestinations: c.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS,
    },
    billing: {
      stripeApiKey: c.STRIPE_API_KEY,
      stripeApiBase: c.STRIPE_API_BASE,
      meterEventName: c.STRIPE_METER_EVENT_NAME,
      reportIntervalSeconds: c.USAGE_REPORT_INTERVAL_SECONDS,
      budgetCheckIntervalSeconds: c.BUDGET_CHECK_INTERVAL_SECONDS,
    },
  };
}
