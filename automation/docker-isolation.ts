// Whether the local Docker engine keeps resources apart. Each resource has its
// own network, but only the engine's iptables rules (DOCKER-ISOLATION-*) stop a
// container of one network from reaching another network's containers: an
// engine started with `--iptables=false` lets every tenant reach every other
// tenant's private ports (Kubo RPC, Postgres, the cluster swarm).
import fs from "node:fs";

const disabled = /^--iptables=false$/;

/** The `dockerd` processes this machine can see, with their command lines. */
export function dockerdProcesses(): { pid: number; args: string[] }[] {
  const found: { pid: number; args: string[] }[] = [];
  for (const pid of fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "dockerd") continue;
      found.push({ pid: Number(pid), args: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean) });
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  return found;
}

function daemonJsonDisablesIptables(file = "/etc/docker/daemon.json"): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { iptables?: unknown }).iptables === false;
  } catch {
    return false;
  }
}

/** True when the flags of a `dockerd` command line turn its iptables rules off. */
export function turnsIptablesOff(args: readonly string[]): boolean {
  return args.some((arg, i) => disabled.test(arg) || (arg === "--iptables" && args[i + 1] === "false"));
}

/**
 * Why containers of different resources could reach each other on the local
 * engine, or undefined when its iptables isolation is on. A remote engine
 * (DOCKER_HOST over TCP or SSH) cannot be inspected from here: its operator
 * answers for it (README, "Security model").
 */
export function dockerIsolationProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DOCKER_HOST && !env.DOCKER_HOST.startsWith("unix://")) return undefined;
  if (dockerdProcesses().some((daemon) => turnsIptablesOff(daemon.args)) || daemonJsonDisablesIptables()) {
    return "the Docker engine runs with --iptables=false: containers of different resources can reach each other's private ports; restart dockerd with its iptables rules on";
  }
  return undefined;
}
