// The CPUs of the Docker engine the service deploys on (`docker info`'s NCPU,
// which is the engine's machine even when DOCKER_HOST points elsewhere):
// Docker refuses a container whose CPU limit is above them, so the
// Docker-host target caps limits there.
import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** NCPU of the engine; this machine's CPUs when the engine does not answer (the deploy then fails on its own). */
export async function dockerHostCpus(): Promise<number> {
  try {
    const { stdout } = await execFileAsync("docker", ["info", "--format", "{{.NCPU}}"], { timeout: 10_000 });
    const cpus = Number(stdout.trim());
    if (Number.isInteger(cpus) && cpus > 0) return cpus;
  } catch {
    // fall through
  }
  return os.availableParallelism();
}
