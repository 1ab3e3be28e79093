// Building Go programs from the module proxy into the cache, atomically.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { commandExists, runLogged } from "./exec.js";
import { longStep } from "./log.js";
import { cacheDir, logDir, repoRoot } from "./paths.js";

export interface GoBuild {
  /** Cache entry and log name, e.g. "pulumi-cli". */
  name: string;
  /** Wrapper module under tools/go/. */
  module: string;
  /** Output binary name → package path. */
  binaries: Record<string, string>;
  ldflags?: string;
  /** What the user sees while it builds. */
  label: string;
  /**
   * A Go release to build with instead of the local one (GOTOOLCHAIN; any
   * Go >= 1.21 fetches it from the module proxy by itself).
   */
  toolchain?: string;
}

function filesOf(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Identifies a build by its inputs, so editing a wrapper module rebuilds it. */
function buildKey(build: GoBuild): string {
  const hash = crypto.createHash("sha256");
  hash.update(JSON.stringify([build.binaries, build.ldflags, build.toolchain]));
  // Relative names: every clone of the repository shares the cached builds.
  const moduleDir = path.join(repoRoot, "tools", "go", build.module);
  for (const file of filesOf(moduleDir)) hash.update(path.relative(moduleDir, file)).update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

const buildDir = (build: GoBuild) => path.join(cacheDir, "bin", `${build.name}-${buildKey(build)}`);

/** The directory of an earlier complete build, if there is one. */
export function cachedGoBuild(build: GoBuild): string | undefined {
  const outDir = buildDir(build);
  return fs.existsSync(outDir) ? outDir : undefined;
}

/** Returns the directory holding the built binaries, building them on first use. */
export async function goBuild(build: GoBuild): Promise<string> {
  const outDir = buildDir(build);
  if (fs.existsSync(outDir)) return outDir;

  if (!(await commandExists("go"))) await ensureDebianPackages(["golang-go"], `the Go toolchain (${build.label})`);
  const log = path.join(logDir, `${build.name}.log`);
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly", ...(build.toolchain && { GOTOOLCHAIN: build.toolchain }) };
  await longStep(`${build.label} from the Go module proxy (first run only; log: ${log})`, async () => {
    for (const [binary, pkg] of Object.entries(build.binaries)) {
      const args = ["build", "-trimpath", "-o", path.join(tmpDir, binary)];
      if (build.ldflags) args.push("-ldflags", build.ldflags);
      await runLogged("go", [...args, pkg], log, { cwd: path.join(repoRoot, "tools", "go", build.module), env, step: build.label });
    }
  });
  // Only a complete build is ever published into the cache.
  fs.renameSync(tmpDir, outDir);
  return outDir;
}
