// Development secrets for `npm start` and `npm test`: the Pulumi passphrase
// and the credentials key, generated once into .data/ (git-ignored, 0600);
// for `npm start` also the scrape token of /metrics and Prometheus discovery.
// Production sets PULUMI_CONFIG_PASSPHRASE and PROVISIONER_CREDENTIALS_KEYS
// itself; with NODE_ENV=production the service refuses to start without them.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { say } from "./log.js";
import { dataDir } from "./paths.js";

const file = path.join(dataDir, "dev-secrets.json");

interface DevSecrets {
  PULUMI_CONFIG_PASSPHRASE: string;
  PROVISIONER_CREDENTIALS_KEYS: string;
}

export function ensureDevSecrets(env: NodeJS.ProcessEnv): Partial<DevSecrets> {
  if (env.NODE_ENV === "production") return {};
  if (env.PULUMI_CONFIG_PASSPHRASE && env.PROVISIONER_CREDENTIALS_KEYS) return {};
  let secrets: DevSecrets;
  if (fs.existsSync(file)) {
    secrets = JSON.parse(fs.readFileSync(file, "utf8")) as DevSecrets;
  } else {
    secrets = {
      PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("base64url"),
      PROVISIONER_CREDENTIALS_KEYS: `dev1:${crypto.randomBytes(32).toString("base64")}`,
    };
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    say(`secrets: generated a development passphrase and credentials key in ${path.relative(process.cwd(), file)}`);
  }
  // Whatever the environment sets wins.
  return {
    ...(!env.PULUMI_CONFIG_PASSPHRASE && { PULUMI_CONFIG_PASSPHRASE: secrets.PULUMI_CONFIG_PASSPHRASE }),
    ...(!env.PROVISIONER_CREDENTIALS_KEYS && { PROVISIONER_CREDENTIALS_KEYS: secrets.PROVISIONER_CREDENTIALS_KEYS }),
  };
}

const scrapeTokenFile = path.join(dataDir, "scrape-token");

/**
 * `npm start`: /metrics needs the scrape token, so development has one too, in
 * a file of its own that a local Prometheus can read (credentials_file) and
 * the service reads through PROVISIONER_SCRAPE_TOKEN_FILE.
 */
export function ensureDevScrapeToken(env: NodeJS.ProcessEnv): { PROVISIONER_SCRAPE_TOKEN_FILE?: string } {
  if (env.NODE_ENV === "production" || env.PROVISIONER_SCRAPE_TOKEN || env.PROVISIONER_SCRAPE_TOKEN_FILE) return {};
  if (!fs.existsSync(scrapeTokenFile)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(scrapeTokenFile, crypto.randomBytes(24).toString("hex"), { mode: 0o600 });
    say(`secrets: generated a scrape token for /metrics in ${path.relative(process.cwd(), scrapeTokenFile)}`);
  }
  return { PROVISIONER_SCRAPE_TOKEN_FILE: scrapeTokenFile };
}
