// Credentials at rest: AES-256-GCM with a keyring. The first key encrypts;
// every key decrypts, by the key id stored beside the ciphertext, so keys can
// rotate without re-encrypting everything at once. The resource id is the
// additional authenticated data: a ciphertext copied to another row fails.
import crypto from "node:crypto";

export interface Keyring {
  activeKeyId: string;
  keys: Map<string, Buffer>;
}

const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

/** `id:base64key[,id:base64key...]`, the active key first. */
export function parseKeyring(spec: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [id, encoded] = entry.split(":");
    if (!id || !keyIdPattern.test(id) || !encoded) throw new Error("each entry must be <key id>:<base64 key>");
    const key = Buffer.from(encoded, "base64");
    if (key.length !== 32) throw new Error(`key ${id} must be 32 bytes (base64), got ${key.length}`);
    if (keys.has(id)) throw new Error(`key id ${id} appears twice`);
    keys.set(id, key);
  }
  const activeKeyId = keys.keys().next().value;
  if (!activeKeyId) throw new Error("no key given");
  return { activeKeyId, keys };
}

export function generateKeyringSpec(keyId = "k1"): string {
  return `${keyId}:${crypto.randomBytes(32).toString("base64")}`;
}

export interface SealedCredentials {
  keyId: string;
  /** iv (12 bytes) | tag (16 bytes) | ciphertext */
  ciphertext: Uint8Array<ArrayBuffer>;
}

/** The key that sealed some credentials is not in PROVISIONER_CREDENTIALS_KEYS (removed too early, or a wrong keyring). */
export class MissingKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`credentials were encrypted with key ${keyId}, which is not in the keyring`);
    this.name = "MissingKeyError";
  }
}

export class CredentialsCipher {
  constructor(private readonly keyring: Keyring) {}

  /** The key id new credentials are sealed with: rotation re-seals everything else. */
  get activeKeyId(): string {
    return this.keyring.activeKeyId;
  }

  seal(resourceId: string, credentials: Record<string, string>): SealedCredentials {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.keyring.keys.get(this.keyring.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(resourceId));
    const body = Buffer.concat([cipher.update(JSON.stringify(credentials), "utf8"), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
    return { keyId: this.keyring.activeKeyId, ciphertext: new Uint8Array(sealed) };
  }

  open(resourceId: string, sealed: SealedCredentials): Record<string, string> {
    const key = this.keyring.keys.get(sealed.keyId);
    if (!key) throw new MissingKeyError(sealed.keyId);
    const data = Buffer.from(sealed.ciphertext);
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, data.subarray(0, 12));
    decipher.setAAD(Buffer.from(resourceId));
    decipher.setAuthTag(data.subarray(12, 28));
    const plain = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
    return JSON.parse(plain.toString("utf8")) as Record<string, string>;
  }
}
