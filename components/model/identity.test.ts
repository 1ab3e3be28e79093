import crypto from "node:crypto";
import bs58 from "bs58";
import { describe, expect, it } from "vitest";
import { deriveIdentity } from "./identity.js";

const seed = "11".repeat(32);

describe("deriveIdentity", () => {
  it("gives an Ed25519 libp2p peer ID and a matching protobuf private key", () => {
    const identity = deriveIdentity(seed, 0);
    expect(identity.id).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);
    const key = Buffer.from(identity.privateKey, "base64");
    // protobuf: KeyType=Ed25519, Data = 32-byte seed + 32-byte public key
    expect([...key.subarray(0, 4)]).toEqual([0x08, 0x01, 0x12, 0x40]);
    const publicKey = key.subarray(36);
    const decoded = bs58.decode(identity.id);
    expect(Buffer.from(decoded.subarray(-32)).equals(publicKey)).toBe(true);
    // The seed half really is the private key of that public key.
    const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), key.subarray(4, 36)]);
    const derived = crypto.createPublicKey(crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    expect(derived.export({ format: "der", type: "spki" }).subarray(-32).equals(publicKey)).toBe(true);
  });

  it("is stable per peer index and differs between peers and seeds", () => {
    expect(deriveIdentity(seed, 1)).toEqual(deriveIdentity(seed, 1));
    expect(deriveIdentity(seed, 1).id).not.toBe(deriveIdentity(seed, 2).id);
    expect(deriveIdentity("22".repeat(32), 1).id).not.toBe(deriveIdentity(seed, 1).id);
  });
});
