// The Docker engine the templates deploy to: use the one there is, else start one.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dockerdProcesses, dockerIsolationProblem } from "../../automation/docker-isolation.js";
import { ensureDebianPackages } from "./apt.js";
import { commandExists, probe } from "./exec.js";
import { BootstrapError, say } from "./log.js";
import { logDir } from "./paths.js";

const defaultSocket = "/var/run/docker.sock";

async function serverVersion(): Promise<string | undefined> {
  const result = await probe("docker", ["version", "--format", "{{.Server.Version}}"], 10_000);
  return result.ok ? result.stdout.trim() : undefined;
}

async function startDockerd(): Promise<void> {
  const log = path.join(logDir, "dockerd.log");
  fs.mkdirSync(logDir, { recursive: true });
  say(`docker: starting dockerd (log: ${log})`);
  const out = fs.openSync(log, "a");
  // With its iptables rules (the default): they are what keeps one resource's
  // network from reaching another's (nf_tables works on these machines).
  const daemon = spawn("dockerd", [], { detached: true, stdio: ["ignore", out, out] });
  daemon.unref();
  fs.closeSync(out);
  for (let i = 0; i < 60; i++) {
    if (await serverVersion()) return;
    await sleep(1000);
  }
  throw new BootstrapError("docker: dockerd did not answer within 60 s.", `See its log: ${log}`);
}

/**
 * An engine an earlier bootstrap started with `--iptables=false` (before
 * resources were isolated) is restarted with its rules on; containers come
 * back by their restart policy. Any other engine without isolation is the
 * machine owner's: the service says so in /readyz and serves a single team.
 */
async function restartEngineWithoutIsolation(): Promise<void> {
  // Exactly the command line earlier bootstraps used: no other engine is ours to restart.
  const ours = dockerdProcesses().find((daemon) => daemon.args.join(" ") === "dockerd --iptables=false")?.pid;
  if (!ours) {
    say(`docker: warning: ${dockerIsolationProblem()}`);
    return;
  }
  say("docker: the engine an earlier bootstrap started runs without iptables (resources not isolated): restarting it with them");
  process.kill(ours, "SIGTERM");
  for (let i = 0; i < 60 && fs.existsSync(`/proc/${ours}`); i++) await sleep(500);
  await startDockerd();
}

/** Makes sure a Docker engine answers; returns a description of it. */
export async function ensureDocker(): Promise<string> {
  if (process.env.DOCKER_HOST) {
    const version = await serverVersion();
    if (!version) {
      throw new BootstrapError(
        `docker: DOCKER_HOST=${process.env.DOCKER_HOST} does not answer.`,
        "Start that engine, or unset DOCKER_HOST to use the local one.",
      );
    }
    say(`docker: using the engine at DOCKER_HOST (server ${version})`);
    return process.env.DOCKER_HOST;
  }
  if (!(await commandExists("docker")) || !(await commandExists("dockerd"))) {
    await ensureDebianPackages(["docker.io"], "a Docker engine for the templates");
  }
  let version = fs.existsSync(defaultSocket) ? await serverVersion() : undefined;
  if (version) {
    say(`docker: using the engine at ${defaultSocket} (server ${version})`);
    if (dockerIsolationProblem()) await restartEngineWithoutIsolation();
  } else {
    if (process.getuid?.() !== 0) {
      throw new BootstrapError(
        "docker: no Docker engine answers and starting one needs root.",
        "Start Docker (e.g. `sudo systemctl start docker`) or set DOCKER_HOST, then run the command again.",
      );
    }
    await startDockerd();
    version = await serverVersion();
    say(`docker: started dockerd (server ${version})`);
  }
  return `unix://${defaultSocket}`;
}

/** Compose for the Docker-host target: the `docker compose` plugin, else docker-compose. */
export async function ensureCompose(): Promise<string> {
  if ((await probe("docker", ["compose", "version"])).ok) return "docker compose";
  if (!(await commandExists("docker-compose"))) {
    await ensureDebianPackages(["docker-compose"], "Compose, which the Docker-host target runs");
  }
  return "docker-compose";
}
