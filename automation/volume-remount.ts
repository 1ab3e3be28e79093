// A refresh of a resource on this machine's Docker host mounts its volumes
// again (after a reboot of the host the images are not mounted, and the
// containers cannot start: their volumes bind into the mounts).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { projectLabel } from "../components/model/compose.js";
import { remountVolumesLines } from "../components/model/volume-quota.js";

const execFileAsync = promisify(execFile);

/** Returns what it did ("mounted again: pgdata backups"), or "" when every volume was mounted. */
export async function remountVolumes(project: string, projectsDir: string): Promise<string> {
  const { stdout } = await execFileAsync("sh", ["-c", remountVolumesLines(projectsDir, project, projectLabel).join("\n")]);
  return stdout.trim();
}
