// Key rotation: re-seals every resource's credentials (and every webhook's signing secret) with the keyring's
// active (first) key, so that older keys can then be removed. Each row is
// updated only if it still holds what was read: an operation that stored new
// credentials meanwhile wins, and a rerun does what is left (idempotent).
import type { Database } from "../core/db.js";
import { MissingKeyError, type CredentialsCipher } from "../core/credentials-cipher.js";
import { openSecret, sealSecret } from "./webhooks.service.js";

export interface RotationReport {
  activeKeyId: string;
  /** Re-sealed with the active key now. */
  resealed: number;
  /** Sealed with the active key already. */
  current: number;
  /** Changed by an operation while this ran: run again. */
  changedMeanwhile: number;
  /** Sealed with a key that is not in the keyring: resource id → key id. */
  missingKey: Record<string, string>;
}

export async function resealAllCredentials(db: Database, cipher: CredentialsCipher): Promise<RotationReport> {
  const report: RotationReport = { activeKeyId: cipher.activeKeyId, resealed: 0, current: 0, changedMeanwhile: 0, missingKey: {} };
  const rows = await db.resource.findMany({
    where: { credentialsCiphertext: { not: null } },
    select: { id: true, credentialsKeyId: true, credentialsCiphertext: true },
    orderBy: { id: "asc" },
  });
  for (const row of rows) {
    const keyId = row.credentialsKeyId!;
    if (keyId === cipher.activeKeyId) {
      report.current++;
      continue;
    }
    let sealed;
    try {
      sealed = cipher.seal(row.id, cipher.open(row.id, { keyId, ciphertext: row.credentialsCiphertext! }));
    } catch (error) {
      if (!(error instanceof MissingKeyError)) throw error;
      report.missingKey[row.id] = keyId;
      continue;
    }
    const updated = await db.$executeRaw`
      UPDATE resources SET credentials_ciphertext = ${Buffer.from(sealed.ciphertext)}, credentials_key_id = ${sealed.keyId}
      WHERE id = ${row.id}::uuid AND credentials_key_id = ${keyId} AND credentials_ciphertext = ${Buffer.from(row.credentialsCiphertext!)}`;
    if (updated === 1) report.resealed++;
    else report.changedMeanwhile++;
  }
  return report;
}

/** The same for the webhooks' signing secrets (sealed with the same keyring); keyed by webhook id. */
export async function resealWebhookSecrets(db: Database, cipher: CredentialsCipher): Promise<RotationReport> {
  const report: RotationReport = { activeKeyId: cipher.activeKeyId, resealed: 0, current: 0, changedMeanwhile: 0, missingKey: {} };
  const rows = await db.webhook.findMany({ select: { id: true, secretKeyId: true, secretCiphertext: true }, orderBy: { id: "asc" } });
  for (const row of rows) {
    if (row.secretKeyId === cipher.activeKeyId) {
      report.current++;
      continue;
    }
    let sealed;
    try {
      sealed = sealSecret(cipher, row.id, openSecret(cipher, row.id, { keyId: row.secretKeyId, ciphertext: row.secretCiphertext }));
    } catch (error) {
      if (!(error instanceof MissingKeyError)) throw error;
      report.missingKey[row.id] = row.secretKeyId;
      continue;
    }
    const { count } = await db.webhook.updateMany({
      where: { id: row.id, secretKeyId: row.secretKeyId },
      data: { secretCiphertext: Buffer.from(sealed.ciphertext), secretKeyId: sealed.keyId },
    });
    if (count === 1) report.resealed++;
    else report.changedMeanwhile++;
  }
  return report;
}
