// Service configuration: parsed and validated once at start; every key is
// documented in the README's configuration table.
import path from "node:path";
import { z } from "zod";
import { resolveImages, type ImageSet } from "../components/images.js";

const repoRoot = path.resolve(import.meta.dirname, "..");

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().url({ message: "must be a postgresql:// URL" }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PULUMI_BACKEND_URL: z.string().min(1).default(`file://${path.join(repoRoot, ".data", "pulumi-state")}`),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: string;
  pulumiBackendUrl: string;
  images: ImageSet;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    logLevel: c.LOG_LEVEL,
    pulumiBackendUrl: c.PULUMI_BACKEND_URL,
    images: resolveImages(env),
  };
}
