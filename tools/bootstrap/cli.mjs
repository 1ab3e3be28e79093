#!/usr/bin/env node
// Entry point of `npm start` and `npm test`. Plain Node, no dependencies: it
// installs the npm dependencies (npm ci) when package-lock.json changed, then
// runs the TypeScript bootstrap (main.ts) in this process through tsx's API:
// the process npm started is the one that handles SIGINT and SIGTERM.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const lockfile = path.join(root, "package-lock.json");
const stamp = path.join(root, "node_modules", ".provisioner-lock-sha256");

const digest = crypto.createHash("sha256").update(fs.readFileSync(lockfile)).digest("hex");
const installed = fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === digest;
if (!installed) {
  console.log("[bootstrap] npm: installing dependencies (npm ci)");
  const ci = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (ci.status !== 0) {
    console.error("[bootstrap] error: npm ci failed; see its output above.");
    process.exit(1);
  }
  fs.writeFileSync(stamp, digest);
} else {
  console.log("[bootstrap] npm: dependencies up to date");
}

process.chdir(root);
// Imported only now: npm ci may just have installed it.
const { register } = await import("tsx/esm/api");
register();
await import(pathToFileURL(path.join(root, "tools", "bootstrap", "main.ts")).href);
