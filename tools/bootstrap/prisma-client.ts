// Generates the Prisma client (prisma/generated) when the schema changed.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { runLogged } from "./exec.js";
import { say } from "./log.js";
import { logDir, repoRoot } from "./paths.js";

const schema = path.join(repoRoot, "prisma", "schema.prisma");
const generated = path.join(repoRoot, "prisma", "generated");
const stamp = path.join(generated, ".schema-sha256");

export async function ensurePrismaClient(): Promise<void> {
  const digest = crypto
    .createHash("sha256")
    .update(fs.readFileSync(schema))
    .update(fs.readFileSync(path.join(repoRoot, "package-lock.json")))
    .digest("hex");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === digest) return;
  say("prisma: generating the client");
  // `generate` needs no schema engine, but Prisma 7 tries to download one unless
  // this points at an existing file: any file will do.
  const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
  await runLogged(path.join(repoRoot, "node_modules", ".bin", "prisma"), ["generate"], path.join(logDir, "prisma.log"), {
    cwd: repoRoot,
    env,
    step: "prisma generate",
  });
  fs.writeFileSync(stamp, digest);
}
