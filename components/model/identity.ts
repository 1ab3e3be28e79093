// libp2p identities for ipfs-cluster peers, fixed in advance so every peer can
// be told the others' addresses at start (CLUSTER_PEERADDRESSES) instead of
// relying on mDNS. Derived from one secret seed, so an update that adds a peer
// gets a new identity and the existing peers keep theirs.
import crypto from "node:crypto";
import bs58 from "bs58";

export interface PeerIdentity {
  /** The peer ID, e.g. 12D3KooW... */
  id: string;
  /** Base64 protobuf-encoded private key, as CLUSTER_PRIVATEKEY expects. */
  privateKey: string;
}

// DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows.
const pkcs8Ed25519Prefix = Buffer.from("302e020100300506032b657004220420", "hex");
// libp2p key protobuf: field 1 (KeyType) = 1 (Ed25519), field 2 (Data) = bytes.
const protoKey = (data: Buffer) => Buffer.concat([Buffer.from([0x08, 0x01, 0x12, data.length]), data]);

export function deriveIdentity(seedHex: string, peerIndex: number): PeerIdentity {
  const seed = crypto.createHmac("sha256", Buffer.from(seedHex, "hex")).update(`ipfs-cluster-peer-${peerIndex}`).digest();
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: "der", type: "pkcs8" });
  const publicKey = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
  // A peer ID of an Ed25519 key is the identity multihash (0x00, length) of its protobuf public key.
  const publicProto = protoKey(publicKey);
  const id = bs58.encode(Buffer.concat([Buffer.from([0x00, publicProto.length]), publicProto]));
  // libp2p's Ed25519 private key bytes are the seed followed by the public key.
  return { id, privateKey: protoKey(Buffer.concat([seed, publicKey])).toString("base64") };
}
