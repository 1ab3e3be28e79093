// Test helpers around the docker CLI (the real engine the bootstrap provides).
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("docker", args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** The host port Docker published for a container port. */
export async function publishedPort(container: string, containerPort: string): Promise<number> {
  const mapping = await docker("port", container, containerPort);
  const port = Number(mapping.split("\n")[0]!.split(":").pop());
  if (!Number.isInteger(port)) throw new Error(`no published port for ${containerPort}: ${mapping}`);
  return port;
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined; // an answer, if not yet the one awaited: older errors no longer apply
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}${lastError.cause instanceof Error ? ` (${lastError.cause.message})` : ""}` : ""}`,
  );
}
