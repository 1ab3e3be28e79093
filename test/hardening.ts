// What every deployed system promises about hardening (issue 10), checked on
// the real containers through the docker CLI and on the host's process list.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import readline from "node:readline";
import { expect, it } from "vitest";
import { docker } from "./docker.js";

export interface ContainerState {
  Name: string;
  Config: { Env: string[] | null; User: string };
  State: { Pid: number };
  HostConfig: {
    SecurityOpt: string[] | null;
    CapDrop: string[] | null;
    CapAdd: string[] | null;
    PidsLimit: number | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    PortBindings: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  };
  Mounts: { Type: string; Name?: string }[];
}

export async function containersOf(project: string): Promise<ContainerState[]> {
  const ids = (await docker("ps", "-aq", "--filter", `label=provisioner.project=${project}`)).split("\n").filter(Boolean);
  return ids.length ? (JSON.parse(await docker("inspect", ...ids)) as ContainerState[]) : [];
}

/**
 * The secrets the containers were given: the values of the variables named as
 * secrets (passwords, the cluster secret and private key, basic-auth
 * credentials and Authorization headers, without their user or scheme).
 * Not every long hex string: host-side names carry the resource id.
 */
export function secretsIn(containers: ContainerState[]): string[] {
  const variables = containers.flatMap((c) =>
    (c.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const),
  );
  const values = variables
    .filter(([name]) => /PASSWORD|SECRET|PRIVATEKEY|AUTHORIZATION|CREDENTIALS/.test(name))
    .map(([, value]) => value.replace(/^Basic /, "").replace(/^[a-z]+:/, ""));
  return [...new Set(values.filter((s) => s.length >= 16))];
}

/** Every volume the containers mount, named or anonymous. */
export function volumesMountedBy(containers: ContainerState[]): string[] {
  return [...new Set(containers.flatMap((c) => c.Mounts.filter((m) => m.Type === "volume").map((m) => m.Name!)))];
}

export async function existingVolumes(names: string[]): Promise<string[]> {
  const all = new Set((await docker("volume", "ls", "-q")).split("\n"));
  return names.filter((name) => all.has(name));
}

export interface ProcessSampler {
  /** Stops sampling; every distinct command line seen. */
  stop(): Promise<Set<string>>;
}

/**
 * Samples the host's `ps -ww -eo args` until stopped, every 10 ms: a health
 * check's client lives a few tens of milliseconds (`ps` itself takes ~10 ms here).
 */
export function sampleProcesses(): ProcessSampler {
  const child = spawn("sh", ["-c", "while :; do ps -ww -eo args; sleep 0.01; done"], {
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  const lines = new Set<string>();
  readline.createInterface({ input: child.stdout }).on("line", (line) => lines.add(line));
  return {
    async stop() {
      const exited = once(child, "exit");
      process.kill(-child.pid!, "SIGTERM"); // the loop and its ps/sleep
      await exited;
      return lines;
    },
  };
}

/** Capabilities a template may add back, each for an image's entry point that starts as root (chown, then a switch of user). */
export const allowedCapabilities = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "SETUID", "SETGID"];

/** The real user id of a host process (the test runs on the Docker host). */
function uidOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/^Uid:\s+(\d+)/m)![1]);
}

export function expectHardened(containers: ContainerState[]): void {
  expect(containers.length).toBeGreaterThan(0);
  for (const c of containers) {
    const h = c.HostConfig;
    const seen = {
      name: c.Name,
      noNewPrivileges: h.SecurityOpt?.includes("no-new-privileges:true") ?? false,
      capDrop: h.CapDrop,
      capAddAllowed: (h.CapAdd ?? []).every((cap) => allowedCapabilities.includes(cap)),
      pidsLimited: (h.PidsLimit ?? 0) > 0,
      logs: { type: h.LogConfig.Type, rotated: Boolean(h.LogConfig.Config["max-size"] && h.LogConfig.Config["max-file"]) },
      // Root only where the image's entry point needs it, and then with named capabilities (or for nothing but its own root-owned files).
      userOrCapabilities: c.Config.User !== "" || (h.CapAdd ?? []).length > 0,
      // What runs now: every main process but the backup sidecars' is not root (entry points that start as root have switched).
      mainProcessRoot: uidOf(c.State.Pid) === 0,
      publishedOn: [...new Set(Object.values(h.PortBindings ?? {}).flatMap((bindings) => (bindings ?? []).map((b) => b.HostIp)))],
    };
    expect(seen).toEqual({
      name: c.Name,
      noNewPrivileges: true,
      capDrop: ["ALL"],
      capAddAllowed: true,
      pidsLimited: true,
      logs: { type: "json-file", rotated: true },
      userOrCapabilities: true,
      mainProcessRoot: c.Name.endsWith("-backup"),
      publishedOn: seen.publishedOn.length ? ["127.0.0.1"] : [],
    });
  }
}

/** The checks every template's end-to-end file runs on its deployment. */
export function hardeningTests(suite: { deployment: { project: string }; processLines: Set<string> }): void {
  it("runs every container with no-new-privileges, all capabilities dropped but named ones, a pids limit, rotated logs, not as root, ports on 127.0.0.1", async () => {
    expectHardened(await containersOf(suite.deployment.project));
  });

  it("shows none of its generated secrets in the host's process list while it deploys and its health checks run", async () => {
    const secrets = secretsIn(await containersOf(suite.deployment.project));
    expect(secrets.length).toBeGreaterThan(0);
    expect(suite.processLines.size).toBeGreaterThan(100); // the sampler did see the host's processes
    // Where a secret shows, say where, not what it is.
    const leaks = [...suite.processLines]
      .filter((line) => secrets.some((s) => line.includes(s)))
      .map((line) => secrets.reduce((l, s) => l.replaceAll(s, "<secret>"), line));
    expect(leaks).toEqual([]);
  });
}
