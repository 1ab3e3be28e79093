#!/usr/bin/env node
// Entry point of `npm start` and `npm test`. Plain Node, no dependencies: it
// installs the npm dependencies (npm ci) when package-lock.json changed, then
// hands over to the TypeScript bootstrap (main.ts) through tsx.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "tools", "bootstrap", "main.ts"), ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
