// The Pulumi CLI the service runs: resolved once (LocalWorkspace would run
// `pulumi version` for every operation otherwise), and at a lower CPU
// priority. A deployment is many processes (CLI, plugins, Compose); on a
// small host they would starve the API that reports on them. Children
// (plugins, scripts) inherit the niceness.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function lowPriorityPulumi(niceness = 10): Promise<PulumiCommand> {
  const real = findOnPath("pulumi");
  if (!real) throw new Error("the pulumi CLI is not on PATH (npm start puts it there)");
  // One wrapper per user, rewritten at each start (atomically: another instance may be using it).
  const root = path.join(os.tmpdir(), `provisioner-pulumi-${os.userInfo().uid}`);
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  const wrapper = path.join(root, "bin", "pulumi");
  const staged = `${wrapper}.${process.pid}`;
  // The real CLI's folder first on PATH: its bundled plugins are found beside it.
  fs.writeFileSync(
    staged,
    `#!/bin/sh\nPATH=${JSON.stringify(path.dirname(real))}:"$PATH" exec nice -n ${niceness} ${JSON.stringify(real)} "$@"\n`,
    { mode: 0o755 },
  );
  fs.renameSync(staged, wrapper);
  return PulumiCommand.get({ root });
}
