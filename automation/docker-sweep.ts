// The last step of a delete on this machine's Docker host: whatever carries the
// resource's label goes, even what an interrupted create never recorded.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { projectLabel } from "../components/model/compose.js";
import { downScript } from "../components/model/deploy-script.js";

const execFileAsync = promisify(execFile);

/** Removes the project and whatever carries its label from this Docker host; returns what was there (`container:<id>`, ...). */
export async function sweepDockerHost(project: string, projectsDir: string): Promise<string[]> {
  const filter = `label=${projectLabel}=${project}`;
  const list = async (kind: string, args: string[]) =>
    (await execFileAsync("docker", [...args, "--filter", filter])).stdout
      .split("\n")
      .filter(Boolean)
      .map((id) => `${kind}:${id.slice(0, 12)}`);
  const found = [
    ...(await list("container", ["ps", "-aq"])),
    ...(await list("volume", ["volume", "ls", "-q"])),
    ...(await list("network", ["network", "ls", "-q"])),
  ];
  await execFileAsync("sh", ["-c", downScript(project, { projectsDir })]);
  return found;
}
