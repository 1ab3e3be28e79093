// Runs one verified restore (components/templates/restore-check.ts) on this
// machine's Docker engine: the scratch container in the foreground, its
// result parsed from its last line, the container removed however it ends.
import { execFile } from "node:child_process";
import { restoreCheckArgs, restoreCheckContainer, type RestoreCheck } from "../components/templates/restore-check.js";

export interface RestoreCheckResult {
  ok: boolean;
  /** What was checked ("12 tables, 100000 rows read"), or why it failed (the tool's own last words). */
  message: string;
  tables?: number;
  rows?: number;
  /** From the container's start to its answer. */
  seconds: number;
}

export type { RestoreCheck } from "../components/templates/restore-check.js";

const docker = (args: string[], timeoutMs: number) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error && !stdout ? error.message : "") });
    });
  });

/** The line of a tool's output that says what went wrong: its first error, else its last line. */
function reason(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.find((l) => /error|fatal|could not|invalid/i.test(l)) ?? lines.at(-1) ?? "no output").slice(0, 500);
}

/** Restores the backup into a scratch container and checks it; never throws for a failed restore (the result says so). */
export async function runRestoreCheck(check: RestoreCheck, { timeoutSeconds = 3600 } = {}): Promise<RestoreCheckResult> {
  const name = restoreCheckContainer(check.hostName);
  // A container an interrupted run left.
  await docker(["rm", "-f", name], 30_000);
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const run = await docker(restoreCheckArgs(check), timeoutSeconds * 1000);
    const last = run.stdout.trim().split("\n").at(-1) ?? "";
    const match = /^checked (\d+) (\d+)$/.exec(last);
    if (run.code === 0 && match) {
      const tables = Number(match[1]);
      const rows = Number(match[2]);
      return { ok: true, message: `restored and read ${tables} tables, ${rows} rows`, tables, rows, seconds: seconds() };
    }
    const timedOut = run.code !== 0 && seconds() >= timeoutSeconds;
    return {
      ok: false,
      message: timedOut ? `no answer within ${timeoutSeconds} s` : reason(`${run.stderr}\n${run.stdout}`),
      seconds: seconds(),
    };
  } finally {
    await docker(["rm", "-f", name], 30_000);
  }
}
