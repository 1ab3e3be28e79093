// npm run rotate-credentials-key
// Re-seals every resource's credentials and every webhook's signing secret with the first key of
// PROVISIONER_CREDENTIALS_KEYS. Rotation: put the new key first (keeping the
// old ones after it), restart the service, run this, then drop the old keys.
// Idempotent; exits 1 when some credentials are sealed with a key that is not
// in the keyring (they stay as they are: add that key back and rerun).
import { parseKeyring, CredentialsCipher } from "../core/credentials-cipher.js";
import { resealAllCredentials, resealWebhookSecrets } from "../api/credentials-rotation.js";
import { createDatabase } from "../core/db.js";

let cipher: CredentialsCipher;
try {
  cipher = new CredentialsCipher(parseKeyring(process.env.PROVISIONER_CREDENTIALS_KEYS ?? ""));
} catch (error) {
  console.error(`PROVISIONER_CREDENTIALS_KEYS: ${(error as Error).message} (<key id>:<32 bytes base64>[,<older key id>:<key>...])`);
  process.exit(2);
}

const db = createDatabase(process.env.DATABASE_URL!);
try {
  const report = await resealAllCredentials(db, cipher);
  const webhooks = await resealWebhookSecrets(db, cipher);
  const active = report.activeKeyId;
  const missing = Object.entries(report.missingKey);
  const missingWebhooks = Object.entries(webhooks.missingKey);
  console.log(
    `credentials re-sealed with key ${active}: ${report.resealed}; already on ${active}: ${report.current}; changed by an operation meanwhile: ${report.changedMeanwhile}; sealed with a missing key: ${missing.length}`,
  );
  for (const [resourceId, keyId] of missing)
    console.log(`  resource ${resourceId}: sealed with key ${keyId}, which is not in PROVISIONER_CREDENTIALS_KEYS`);
  console.log(
    `webhook secrets re-sealed with key ${active}: ${webhooks.resealed}; already on ${active}: ${webhooks.current}; changed meanwhile: ${webhooks.changedMeanwhile}; sealed with a missing key: ${missingWebhooks.length}`,
  );
  for (const [webhookId, keyId] of missingWebhooks)
    console.log(`  webhook ${webhookId}: sealed with key ${keyId}, which is not in PROVISIONER_CREDENTIALS_KEYS`);
  if (missing.length || missingWebhooks.length) {
    console.log(
      "add the missing keys after the first one and run this again; until then those resources' credentials cannot be read (DELETE still works) and those webhooks cannot sign",
    );
    process.exitCode = 1;
  } else if (report.changedMeanwhile || webhooks.changedMeanwhile) {
    console.log("run this again to check the credentials that changed meanwhile");
  } else {
    console.log(
      `every resource's credentials and webhook secret are sealed with key ${active}: the other keys can be removed from PROVISIONER_CREDENTIALS_KEYS`,
    );
  }
} finally {
  await db.$disconnect();
}
