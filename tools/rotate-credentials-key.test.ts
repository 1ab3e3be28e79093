// `npm run rotate-credentials-key` as an operator runs it (the tool itself),
// against a scratch database migrated like the real one.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSecret, sealSecret } from "../api/webhooks.service.js";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "../core/credentials-cipher.js";
import { createDatabase, type Database } from "../core/db.js";
import { applyMigrations } from "./bootstrap/migrations.js";

const execFileAsync = promisify(execFile);
const serverUrl = new URL(process.env.DATABASE_URL!);
const scratch = `rotation_test_${crypto.randomBytes(4).toString("hex")}`;
const scratchUrl = Object.assign(new URL(serverUrl), { pathname: `/${scratch}` }).toString();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: Object.assign(new URL(serverUrl), { pathname: "/postgres" }).toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs the tool; resolves with its exit code and output whether it succeeds or not. */
async function rotate(keys: string): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, DATABASE_URL: scratchUrl, PROVISIONER_CREDENTIALS_KEYS: keys };
  try {
    const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "tools/rotate-credentials-key.ts"], { env });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe("rotate-credentials-key", () => {
  const k0 = generateKeyringSpec("k0"); // a key that is gone
  const k1 = generateKeyringSpec("k1");
  const k2 = generateKeyringSpec("k2");
  const secret = { username: "admin", password: crypto.randomBytes(16).toString("hex") };
  let db: Database;
  const ids: Record<"onK1" | "onK2" | "onK0" | "none", string> = { onK1: "", onK2: "", onK0: "", none: "" };
  const webhookSecret = `whsec_${crypto.randomBytes(32).toString("base64")}`;
  let webhookId = "";

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${scratch}`);
    await applyMigrations(scratchUrl);
    db = createDatabase(scratchUrl);
    const team = await db.team.create({ data: { name: "rotation" } });
    for (const [which, spec] of [
      ["onK1", k1],
      ["onK2", k2],
      ["onK0", k0],
      ["none", undefined],
    ] as const) {
      const row = await db.resource.create({
        data: {
          teamId: team.id,
          name: which.toLowerCase(),
          hostName: `rot-${which.toLowerCase()}`,
          template: "small-storage",
          target: "docker-host",
          size: "small",
          cpus: 1,
          memoryMb: 512,
        },
      });
      ids[which] = row.id;
      if (!spec) continue;
      const sealed = new CredentialsCipher(parseKeyring(spec)).seal(row.id, secret);
      await db.resource.update({
        where: { id: row.id },
        data: { credentialsKeyId: sealed.keyId, credentialsCiphertext: sealed.ciphertext },
      });
    }
    webhookId = crypto.randomUUID();
    const sealed = sealSecret(new CredentialsCipher(parseKeyring(k1)), webhookId, webhookSecret);
    await db.webhook.create({
      data: {
        id: webhookId,
        teamId: team.id,
        url: "https://example.com/hook",
        eventTypes: ["resource.failed"],
        secretCiphertext: Buffer.from(sealed.ciphertext),
        secretKeyId: sealed.keyId,
      },
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await admin(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  });

  const keyIds = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(ids).map(async ([which, id]) => [which, (await db.resource.findUniqueOrThrow({ where: { id } })).credentialsKeyId]),
      ),
    );

  it(
    "re-seals with the first key what an older key sealed, names what a missing key sealed, exits 1 for it",
    { timeout: 30_000 },
    async () => {
      const { code, stdout } = await rotate(`${k2},${k1}`);
      expect(stdout.split("\n")[0]).toBe(
        "credentials re-sealed with key k2: 1; already on k2: 1; changed by an operation meanwhile: 0; sealed with a missing key: 1",
      );
      expect(stdout).toContain(
        "webhook secrets re-sealed with key k2: 1; already on k2: 0; changed meanwhile: 0; sealed with a missing key: 0\n",
      );
      // The webhook's secret opens with k2 alone, unchanged.
      const webhook = await db.webhook.findUniqueOrThrow({ where: { id: webhookId } });
      expect(webhook.secretKeyId).toBe("k2");
      expect(
        openSecret(new CredentialsCipher(parseKeyring(k2)), webhookId, {
          keyId: webhook.secretKeyId,
          ciphertext: webhook.secretCiphertext,
        }),
      ).toBe(webhookSecret);
      expect(stdout).not.toContain(webhookSecret.slice(6));
      expect(stdout).toContain(`resource ${ids.onK0}: sealed with key k0, which is not in PROVISIONER_CREDENTIALS_KEYS`);
      expect(code).toBe(1);
      expect(await keyIds()).toEqual({ onK1: "k2", onK2: "k2", onK0: "k0", none: null });
      // k1 can go: what it sealed opens with k2 alone, unchanged.
      const row = await db.resource.findUniqueOrThrow({ where: { id: ids.onK1 } });
      expect(
        new CredentialsCipher(parseKeyring(k2)).open(row.id, { keyId: row.credentialsKeyId!, ciphertext: row.credentialsCiphertext! }),
      ).toEqual(secret);
      expect(stdout).not.toContain(secret.password);
    },
  );

  it("is idempotent, and once the missing key is back, finishes the job and exits 0", { timeout: 30_000 }, async () => {
    expect((await rotate(`${k2},${k1}`)).stdout.split("\n")[0]).toBe(
      "credentials re-sealed with key k2: 0; already on k2: 2; changed by an operation meanwhile: 0; sealed with a missing key: 1",
    );
    const { code, stdout } = await rotate(`${k2},${k0}`);
    expect(stdout).toBe(
      "credentials re-sealed with key k2: 1; already on k2: 2; changed by an operation meanwhile: 0; sealed with a missing key: 0\n" +
        "webhook secrets re-sealed with key k2: 0; already on k2: 1; changed meanwhile: 0; sealed with a missing key: 0\n" +
        "every resource's credentials and webhook secret are sealed with key k2: the other keys can be removed from PROVISIONER_CREDENTIALS_KEYS\n",
    );
    expect(code).toBe(0);
    expect(await keyIds()).toEqual({ onK1: "k2", onK2: "k2", onK0: "k2", none: null });
  });

  it("when the keyring is malformed, then it says so naming the variable and exits 2", async () => {
    const { code } = await rotate("k1:short");
    expect(code).toBe(2);
  });
});
