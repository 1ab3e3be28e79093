// `npm start` from a checkout inside a 0700 folder (root's home on Debian):
// its local database starts, and a SIGINT or SIGTERM to the command (Ctrl-C in
// a terminal, a supervisor's stop) stops the service, then that database:
// nothing keeps the ports for the next run or another checkout.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterLayout } from "../tools/bootstrap/postgres-layout.js";
import { answers, freePort } from "./net.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

/** Processes whose command line names `text` (the checkout's service, worker, tools). */
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await execFileAsync("ps", ["-e", "-o", "pid=,args="]);
  return stdout.split("\n").filter((line) => line.includes(text));
}

describe("npm start in a checkout inside a 0700 folder", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-home-"));
  const checkout = path.join(home, "provisioner");
  let stateDir: string;

  beforeAll(async () => {
    fs.chmodSync(home, 0o700);
    // This working tree's files as a clone would have them; the installed
    // dependencies shared (npm ci is not what is tested here).
    const { stdout } = await execFileAsync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const file of stdout.split("\0").filter(Boolean)) {
      if (!fs.existsSync(path.join(repoRoot, file))) continue;
      fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, file), path.join(checkout, file));
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(checkout, "node_modules"));
    stateDir = clusterLayout(checkout).stateDir;
  });

  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** `npm start` as a terminal or `setsid npm start` runs it: a process group of its own. */
  async function npmStart(apiPort: number, pgPort: number) {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(apiPort), PROVISIONER_PG_PORT: String(pgPort), LOG_FORMAT: "json" };
    for (const name of ["DATABASE_URL", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PROVISIONER_CREDENTIALS_KEYS"]) delete env[name];
    let output = "";
    const child: ChildProcess = spawn("npm", ["start"], { cwd: checkout, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // "close": every process writing to its output is gone (npm itself exits at once on a signal).
    const closed = new Promise((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 180_000;
    while (
      !(await fetch(`http://127.0.0.1:${apiPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) {
        process.kill(-child.pid!, "SIGKILL");
        throw new Error(`npm start did not serve /healthz:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { pid: child.pid!, closed, output: () => output };
  }

  it.each([
    ["SIGTERM", "its process group (a supervisor)"],
    ["SIGINT", "its process group (Ctrl-C)"],
    ["SIGTERM", "npm alone (which passes it to a shell that dies without passing it on)"],
  ] as const)("on %s to %s, stops the service, then its database", { timeout: 240_000 }, async (signal, target) => {
    const [apiPort, pgPort] = [await freePort(), await freePort()];
    const run = await npmStart(apiPort, pgPort);
    expect(run.output()).toContain(`postgres: starting the local cluster on 127.0.0.1:${pgPort}`);
    expect(await answers(pgPort)).toBe(true);

    process.kill(target.startsWith("npm") ? run.pid : -run.pid, signal);
    await run.closed;
    expect(run.output()).toContain("postgres: stopped the local cluster");
    expect(await answers(pgPort)).toBe(false);
    expect(await answers(apiPort)).toBe(false);
    expect(run.output()).not.toMatch(/could not|unexpected error/);
    // The service and its worker (a process group of their own) are gone too.
    expect(await processesMentioning(checkout)).toEqual([]);
  });

  it(
    "when npm start is killed outright (SIGKILL), the service stops by itself; the next npm start reuses the database, then stops it",
    { timeout: 300_000 },
    async () => {
      const [apiPort, pgPort] = [await freePort(), await freePort()];
      const killed = await npmStart(apiPort, pgPort);
      process.kill(-killed.pid, "SIGKILL");
      await killed.closed; // the service shares the output: closed once it has stopped
      expect(await answers(apiPort)).toBe(false);
      expect(await processesMentioning(checkout)).toEqual([]);
      expect(await answers(pgPort)).toBe(true); // nobody was left to stop it

      const next = await npmStart(apiPort, pgPort);
      expect(next.output()).toContain(`postgres: the local cluster is running already, on port ${pgPort}`);
      process.kill(-next.pid, "SIGTERM");
      await next.closed;
      expect(await answers(pgPort)).toBe(false);
    },
  );
});
