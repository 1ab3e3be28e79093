// What the Docker engine the service deploys on can grant a container: its
// CPUs (`docker info`'s NCPU, the engine's machine even when DOCKER_HOST
// points elsewhere: a CPU limit above them is refused) and the open-files
// limit its containers get (raising it further needs a privilege the engine
// may not have: "error setting rlimit type 7: operation not permitted").
// The Docker-host target caps limits at both.
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

/**
 * The hard open-files limit a container of `image` gets by default (a
 * throwaway container without network), or undefined when it cannot be
 * read: then no cap, and a size whose pooler needs more fails to start, saying why.
 */
export async function dockerHostOpenFiles(image: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(
      "docker",
      ["run", "--rm", "--network", "none", "--label", "provisioner.probe=open-files", "--entrypoint", "sh", image, "-c", "ulimit -Hn"],
      { timeout: 60_000 },
    );
    const value = stdout.trim();
    if (value === "unlimited") return undefined;
    const limit = Number(value);
    return Number.isInteger(limit) && limit > 0 ? limit : undefined;
  } catch {
    return undefined;
  }
}
