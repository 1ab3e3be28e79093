// Readiness of the engines the service drives: the Docker engine and the
// Pulumi CLI. Each answer is cached briefly so /readyz stays cheap.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ReadinessCheck } from "../core/readiness.js";

const execFileAsync = promisify(execFile);

function cachedCommandCheck(file: string, args: string[], failure: string, ttlMs = 10_000): ReadinessCheck {
  let last: { at: number; result: string | undefined } | undefined;
  return async () => {
    if (last && Date.now() - last.at < ttlMs) return last.result;
    const result = await execFileAsync(file, args, { timeout: 5000 }).then(
      () => undefined,
      () => failure,
    );
    last = { at: Date.now(), result };
    return result;
  };
}

export const dockerCheck = () =>
  cachedCommandCheck("docker", ["info", "--format", "{{.ServerVersion}}"], "the Docker engine does not answer");
export const pulumiCheck = () => cachedCommandCheck("pulumi", ["version"], "the pulumi CLI is not on PATH or does not run");
