// The stack files of stacks/ and the working folders `npm run stack` runs them in.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";

const repoRoot = path.resolve(import.meta.dirname, "..");
const stacksDir = path.join(repoRoot, "stacks");

/** What a Pulumi.<stack>.yaml holds that matters here. */
export interface StackFile {
  config?: Record<string, unknown>;
  secretsprovider?: string;
  encryptionsalt?: string;
  encryptedkey?: string;
}

export class StackFileMissing extends Error {}

/** The working folders of the stacks of one backend. */
export function workspacesOf(backendUrl: string): string {
  return path.join(repoRoot, ".data", "stack-workspaces", crypto.createHash("sha256").update(backendUrl).digest("hex").slice(0, 12));
}

export function readStackFile(stack: string): StackFile {
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = fs.readdirSync(stacksDir).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);
    throw new StackFileMissing(`no stack file stacks/Pulumi.${stack}.yaml; the stacks here: ${known.join(", ")}`);
  }
  return (parse(fs.readFileSync(file, "utf8")) as StackFile | null) ?? {};
}

/**
 * The stack's working folder: a copy of its stack file (the config with the
 * -c overrides, secure values as they are; the Automation API adds the
 * project's Pulumi.yaml). The CLI
 * reads it as `pulumi up` reads stacks/Pulumi.<stack>.yaml, and writes the
 * encryption salt of a new stack there, not into the checked-in file; the
 * folder is kept per backend, so later runs decrypt the stack's secrets.
 */
export function prepareWorkDir(stack: string, backendUrl: string, file: StackFile, overrides: Record<string, string>): string {
  const workDir = path.join(workspacesOf(backendUrl), stack);
  fs.mkdirSync(workDir, { recursive: true });
  const copy = path.join(workDir, `Pulumi.${stack}.yaml`);
  const earlier = fs.existsSync(copy) ? ((parse(fs.readFileSync(copy, "utf8")) as StackFile | null) ?? {}) : {};
  const settings: StackFile = {
    ...(file.secretsprovider && { secretsprovider: file.secretsprovider }),
    ...((file.encryptionsalt ?? earlier.encryptionsalt) && { encryptionsalt: file.encryptionsalt ?? earlier.encryptionsalt }),
    ...((file.encryptedkey ?? earlier.encryptedkey) && { encryptedkey: file.encryptedkey ?? earlier.encryptedkey }),
    config: { ...file.config, ...overrides },
  };
  fs.writeFileSync(copy, stringify(settings));
  return workDir;
}
