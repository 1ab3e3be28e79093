// The service runs from JavaScript compiled here, not through tsx: tsx's
// loader runs in a thread of its own (a second V8 isolate, ~32 MB of the API
// process's RSS) for the whole life of the process. esbuild transpiles file by
// file (no bundling, no type check: `npm run lint` does that), keeping the
// folder layout, so relative imports and lazy `import()`s work unchanged.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { say } from "./log.js";
import { repoRoot } from "./paths.js";

/** What the service and its worker process load (tests and tools run through tsx). */
const sourceDirs = ["api", "core", "automation", "components", "prisma/generated"];
const buildRoot = path.join(repoRoot, ".build");

function sources(): string[] {
  return sourceDirs
    .flatMap((dir) => fs.readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: "utf8" }).map((file) => path.join(dir, file)))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"))
    .sort();
}

/**
 * Compiles the service into `.build/app-<hash of its sources>/` (reused while
 * the sources are unchanged) and returns that folder. A build is written under
 * a temporary name and renamed, so two commands of one checkout never see half
 * of one.
 */
export async function compileService(): Promise<string> {
  const files = sources();
  const hash = crypto.createHash("sha256");
  for (const file of files)
    hash
      .update(file)
      .update("\0")
      .update(fs.readFileSync(path.join(repoRoot, file)));
  const out = path.join(buildRoot, `app-${hash.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(out)) {
    say(`service: compiled JavaScript up to date (${path.relative(repoRoot, out)})`);
    return out;
  }
  const started = Date.now();
  const staging = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: files.map((file) => path.join(repoRoot, file)),
    outbase: repoRoot,
    outdir: staging,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
  });
  fs.renameSync(staging, out);
  removeOldBuilds(out);
  say(`service: compiled ${files.length} files with esbuild in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return out;
}

/** Builds of earlier sources, once no service started within a day can still be loading from them. */
function removeOldBuilds(current: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const entry of fs.readdirSync(buildRoot)) {
    const dir = path.join(buildRoot, entry);
    if (dir !== current && fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * V8 settings of the API process, for its footprint (measured by
 * `npm run bench -- service`): a 4 MB young generation instead of 16 MB (a
 * request allocates far less), and Prisma's WebAssembly query compiler kept at
 * its baseline tier (the optimised tier's code costs tens of MB for
 * microseconds per query).
 */
export const serviceNodeFlags = ["--max-semi-space-size=4", "--no-wasm-tier-up"];

/** `node` arguments that run the service as `npm start` does, compiling it first when its sources changed. */
export async function serviceCommand(): Promise<string[]> {
  return [...serviceNodeFlags, path.join(await compileService(), "api", "main.js")];
}
