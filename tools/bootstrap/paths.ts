// Where the bootstrap keeps what it builds and starts.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Built tools and images outlive a clone (a fresh clone of the repo must not
 * rebuild the Pulumi CLI), so they live outside the repository.
 */
export const cacheDir = process.env.PROVISIONER_CACHE_DIR ?? path.join(os.homedir(), ".cache", "provisioner");

/** Machine-local state of this checkout (database cluster, Pulumi state): git-ignored. */
export const dataDir = path.join(repoRoot, ".data");

export const logDir = path.join(cacheDir, "logs");
