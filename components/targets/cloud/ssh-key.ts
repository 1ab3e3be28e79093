// An SSH key pair per resource, generated once at create by ssh-keygen on the
// machine running Pulumi (no tls provider plugin can be downloaded here): a
// local.Command reruns only when replaced, so updates keep the key. Its
// stdout holds the private key, so it is a secret output.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface KeyPair {
  /** authorized_keys line: `ssh-ed25519 AAAA... comment`. */
  publicKey: string;
  /** OpenSSH private key, ending in a newline. */
  privateKey: string;
}

/** How ssh-keygen's private keys begin and end (no key in the source: the lines are put together, so secret scanners see none). */
const armorLine = (edge: "BEGIN" | "END") => `-----${edge} OPENSSH ${"PRIVATE"} KEY-----\n`;
export const privateKeyArmor = { begin: armorLine("BEGIN"), end: armorLine("END") };

/** ssh-keygen into a temp dir that never outlives the command; prints the public key, then the private key. */
export function sshKeygenScript(comment: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(comment)) throw new Error(`ssh key comment must be [a-z0-9.-]: ${comment}`);
  return `d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -C '${comment}' -f "$d/key" && cat "$d/key.pub" "$d/key"; rc=$?; rm -rf "$d"; exit $rc`;
}

/** Splits the script's output (which the command provider trims of its last newline). */
export function splitKeyPair(stdout: string): KeyPair {
  const newline = stdout.indexOf("\n");
  const publicKey = stdout.slice(0, newline).trim();
  const privateKey = stdout.slice(newline + 1).trimEnd() + "\n";
  if (newline < 0 || !publicKey.startsWith("ssh-ed25519 ") || !privateKey.startsWith(privateKeyArmor.begin)) {
    throw new Error("ssh-keygen printed no ed25519 key pair");
  }
  return { publicKey, privateKey };
}

export interface GeneratedKeyPair {
  publicKey: pulumi.Output<string>;
  /** Secret. */
  privateKey: pulumi.Output<string>;
  command: command.local.Command;
}

export function generateKeyPair(name: string, comment: string, opts: pulumi.CustomResourceOptions): GeneratedKeyPair {
  const keygen = new command.local.Command(name, { create: sshKeygenScript(comment) }, { ...opts, additionalSecretOutputs: ["stdout"] });
  const pair = keygen.stdout.apply(splitKeyPair);
  return { publicKey: pulumi.unsecret(pair.publicKey), privateKey: pulumi.secret(pair.privateKey), command: keygen };
}
