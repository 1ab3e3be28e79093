import { describe, expect, it } from "vitest";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "./credentials-cipher.js";

describe("CredentialsCipher", () => {
  const credentials = { username: "app", password: "p4ssw0rd-value" };

  it("seals with the active key and opens what it sealed; the ciphertext holds no plaintext", () => {
    const cipher = new CredentialsCipher(parseKeyring(generateKeyringSpec("k1")));
    const sealed = cipher.seal("resource-1", credentials);
    expect(sealed.keyId).toBe("k1");
    expect(Buffer.from(sealed.ciphertext).toString("latin1")).not.toContain("p4ssw0rd");
    expect(cipher.open("resource-1", sealed)).toEqual(credentials);
  });

  it("after a rotation, opens old ciphertexts with the old key and seals with the new one", () => {
    const old = generateKeyringSpec("k1");
    const sealedBefore = new CredentialsCipher(parseKeyring(old)).seal("r", credentials);
    const rotated = new CredentialsCipher(parseKeyring(`${generateKeyringSpec("k2")},${old}`));
    expect(rotated.open("r", sealedBefore)).toEqual(credentials);
    expect(rotated.seal("r", credentials).keyId).toBe("k2");
  });

  it("refuses a ciphertext moved to another resource, tampered with, or sealed with an unknown key", () => {
    const cipher = new CredentialsCipher(parseKeyring(generateKeyringSpec("k1")));
    const sealed = cipher.seal("resource-1", credentials);
    expect(() => cipher.open("resource-2", sealed)).toThrow();
    const tampered = Uint8Array.from(sealed.ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => cipher.open("resource-1", { ...sealed, ciphertext: tampered })).toThrow();
    expect(() => cipher.open("resource-1", { ...sealed, keyId: "k9" })).toThrow(/key k9/);
  });
});
