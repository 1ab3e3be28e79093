// Development secrets for `npm start` and `npm test`: the Pulumi passphrase
// and the credentials key, generated once into .data/ (git-ignored, 0600).
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
