// Running external programs: captured for probes, logged to a file for builds.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { BootstrapError } from "./log.js";

const execFileAsync = promisify(execFile);

export interface ProbeResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a short command and reports whether it succeeded; never throws. */
export async function probe(file: string, args: string[], timeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<ProbeResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      timeout: timeoutMs,
      env: env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}

export interface LoggedRunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What the step is, for the error message ("building Kubo"). */
  step: string;
}

/**
 * Runs a command with its output appended to `logFile`; on failure throws an
 * error naming the step and the log, so nothing half-built is mistaken for done.
 */
export async function runLogged(file: string, args: string[], logFile: string, options: LoggedRunOptions): Promise<void> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, "a");
  fs.writeSync(log, `\n$ ${file} ${args.join(" ")}\n`);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", log, log] });
      child.on("error", reject);
      child.on("exit", resolve);
    });
    if (code !== 0) {
      throw new BootstrapError(`${options.step} failed (exit ${code}).`, `See the log: ${logFile}`);
    }
  } finally {
    fs.closeSync(log);
  }
}

export async function commandExists(name: string): Promise<string | undefined> {
  const found = await probe("sh", ["-c", `command -v ${name}`]);
  return found.ok ? found.stdout.trim() : undefined;
}
