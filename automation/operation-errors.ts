// How a failed run is reported: a short reason from the engine's error and
// last lines, the resource FAILED with it (or, when drift refused the change,
// back to the status it had), and a "failed" stage.
import { DriftDetected } from "./drift.js";
import type { RunResult, Scope } from "./run-scope.js";
import { errorMessage } from "../core/error-message.js";

/** A short, readable reason from an engine error and the engine's last lines (redacted by the caller). */
export function describeError(error: unknown, engineLines: string[]): string {
  if (error instanceof DriftDetected) return error.message;
  const text = errorMessage(error);
  // The CLI's stderr holds the diagnostic; the first lines of a CommandError are its command line.
  const diagnostics = text
    .split("\n")
    .map((l) => l.trim())
    // The CLI's own command line and its per-resource progress rows repeat what the diagnostics say.
    .filter((l) => !/Command failed with exit code|^err\?:|^[+~-] /.test(l))
    .filter((l) => /error:|failed|unhealthy|not reachable/i.test(l));
  const lines = [...new Set([...diagnostics, ...engineLines])].slice(0, 10);
  return (lines.length ? lines.join("\n") : text).slice(0, 2000);
}

export async function reportFailure({ statuses, resource, flow, redactor, output, log }: Scope, error: unknown): Promise<RunResult> {
  const message = redactor.redact(describeError(error, output.errorLines()));
  if (error instanceof DriftDetected) {
    // The running system is untouched: the resource goes back to its status before the operation.
    await statuses.restore(resource.id, resource.status, message);
  } else {
    await statuses.markFailed(resource.id, message);
  }
  await flow.stage("failed", message);
  log.warn({ error: message }, "operation failed");
  return { status: "FAILED", error: message };
}
