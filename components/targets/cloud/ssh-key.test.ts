// The key generation script, run for real with this machine's ssh-keygen.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { privateKeyArmor, splitKeyPair, sshKeygenScript } from "./ssh-key.js";

const execFileAsync = promisify(execFile);

describe("sshKeygenScript", () => {
  it("prints a fresh ed25519 key pair that splitKeyPair takes apart, and leaves no file behind", async () => {
    const { stdout } = await execFileAsync("sh", ["-c", sshKeygenScript("qa-blobs")]);
    // As the command provider hands it over: without the last newline.
    const pair = splitKeyPair(stdout.replace(/\n$/, ""));
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ qa-blobs$/);
    expect(pair.privateKey.startsWith(privateKeyArmor.begin)).toBe(true);
    expect(pair.privateKey.endsWith(`\n${privateKeyArmor.end}`)).toBe(true);
    expect(pair.privateKey.length).toBeGreaterThan(privateKeyArmor.begin.length + privateKeyArmor.end.length + 1);
    // The private key is the public key's other half.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-key-")), "key");
    fs.writeFileSync(file, pair.privateKey, { mode: 0o600 });
    const { stdout: derived } = await execFileAsync("ssh-keygen", ["-y", "-f", file]);
    fs.rmSync(path.dirname(file), { recursive: true });
    expect(derived.trim()).toBe(pair.publicKey);
    const second = splitKeyPair((await execFileAsync("sh", ["-c", sshKeygenScript("qa-blobs")])).stdout);
    expect(second.publicKey).not.toBe(pair.publicKey);
  });

  it("refuses a comment that would need quoting", () => {
    expect(() => sshKeygenScript("a' b")).toThrow(/comment/);
  });
});

describe("splitKeyPair", () => {
  it("rejects output that is not a key pair", () => {
    expect(() => splitKeyPair("ssh-keygen: command not found")).toThrow("ssh-keygen printed no ed25519 key pair");
  });
});
