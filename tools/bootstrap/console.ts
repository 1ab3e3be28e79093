// Builds the web console (console/, React + Vite) into .cache/console/<hash>/
// (git-ignored), named by the SHA-256 of its sources and of the lock file: a
// change rebuilds it, a second run reuses it. The service serves the folder it
// is given in PROVISIONER_CONSOLE_DIR (api/console.routes.ts).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { runLogged } from "./exec.js";
import { longStep, say } from "./log.js";
import { logDir, repoRoot } from "./paths.js";

const source = path.join(repoRoot, "console");
const builds = path.join(repoRoot, ".cache", "console");

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : filesUnder(full);
      return [full];
    });
}

export function consoleSourceHash(): string {
  const hash = crypto.createHash("sha256");
  for (const file of [...filesUnder(source), path.join(repoRoot, "package-lock.json")]) {
    hash.update(path.relative(repoRoot, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/** The folder of the built console, built now if its sources changed. */
export async function ensureConsole(): Promise<string> {
  const hash = consoleSourceHash();
  const target = path.join(builds, hash);
  if (fs.existsSync(path.join(target, "index.html"))) {
    say(`console: using the build of ${hash} (.cache/console)`);
    return target;
  }
  const partial = `${target}.partial-${process.pid}`;
  await longStep(`console: building it with Vite into .cache/console/${hash} (log: ${path.join(logDir, "console.log")})`, () =>
    runLogged(
      path.join(repoRoot, "node_modules", ".bin", "vite"),
      ["build", "--config", path.join(source, "vite.config.ts"), "--outDir", partial, "--emptyOutDir"],
      path.join(logDir, "console.log"),
      { cwd: source, step: "vite build" },
    ),
  );
  // Published whole or not at all: another command may be reading the old build.
  try {
    fs.renameSync(partial, target);
  } catch (error) {
    // Another command published the same build meanwhile: theirs is as good.
    if (!fs.existsSync(path.join(target, "index.html"))) throw error;
    fs.rmSync(partial, { recursive: true, force: true });
  }
  for (const old of fs.readdirSync(builds)) {
    if (old !== hash && !old.includes(".partial-")) fs.rmSync(path.join(builds, old), { recursive: true, force: true });
  }
  return target;
}
