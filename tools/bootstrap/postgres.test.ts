// The local cluster of a checkout, for real: wherever the checkout lives (a
// 0700 folder, which the `postgres` user cannot enter), stopped when asked,
// and a port held by another checkout's cluster either explained or, for a
// checkout that is gone, freed.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalCluster, stopLocalCluster, type LocalCluster } from "./postgres.js";
import { clusterLayout } from "./postgres-layout.js";
import { answers, freePort } from "../../test/net.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");

async function query(cluster: LocalCluster, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: `${cluster.serverUrl}/postgres` });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end();
  }
}

describe("the local database cluster of a checkout", () => {
  // Like root's home on Debian: only its owner may enter.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-home-"));
  fs.chmodSync(home, 0o700);
  const started = new Map<string, LocalCluster>();
  const stateDirs = new Set<string>();
  const checkout = (name: string) => {
    const dir = path.join(home, name);
    fs.mkdirSync(dir, { recursive: true });
    stateDirs.add(clusterLayout(dir).stateDir);
    return dir;
  };
  const start = async (dir: string, port: number) => {
    const cluster = await ensureLocalCluster({ checkout: dir, port });
    started.set(cluster.layout.stateDir, cluster);
    return cluster;
  };

  afterAll(async () => {
    for (const cluster of started.values()) await stopLocalCluster(cluster, { drainMs: 0 }).catch(() => undefined);
    for (const dir of stateDirs) fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("works for a checkout inside a 0700 folder, keeps its data out of it when run as root, and stops", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dir = checkout("repo");
    const cluster = await start(dir, port);
    expect(cluster.startedHere).toBe(true);
    expect(await query(cluster, "SELECT current_user AS who")).toEqual({ who: "provisioner" });
    if (process.getuid?.() === 0) {
      expect(cluster.layout.clusterDir.startsWith(`${home}/`)).toBe(false);
      // The password stays the service user's (root's) alone.
      expect(fs.statSync(cluster.layout.passwordFile)).toMatchObject({ uid: 0, mode: 0o100600 });
    }
    // Another command of the same checkout finds it running, on its port even when asking for another.
    const again = await ensureLocalCluster({ checkout: dir, port: port + 1 });
    expect(again).toMatchObject({ startedHere: false, port, layout: cluster.layout });
    expect(await query(again, "SELECT 1 AS one")).toEqual({ one: 1 });

    await stopLocalCluster(cluster);
    expect(await answers(port)).toBe(false);
    // And it comes back with its data.
    expect((await start(dir, port)).startedHere).toBe(true);
    await stopLocalCluster(cluster);
  });

  it("as a user other than root, keeps the cluster in the checkout's .data and runs it as that user", { timeout: 120_000 }, async () => {
    const port = await freePort();
    // As root, the step runs as `nobody` in a checkout of its own; as another user, as that user.
    const asRoot = process.getuid?.() === 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-user-"));
    if (asRoot) fs.chownSync(dir, Number((await execFileAsync("id", ["-u", "nobody"])).stdout), -1);
    fs.chmodSync(dir, 0o700);
    try {
      const step = pathToFileURL(path.join(repoRoot, "tools", "bootstrap", "postgres.ts")).href;
      const code = `const m = await import(${JSON.stringify(step)});
        const c = await m.ensureLocalCluster({ checkout: ${JSON.stringify(dir)}, port: ${port} });
        const pg = (await import("pg")).default; const client = new pg.Client({ connectionString: c.serverUrl + "/postgres" });
        await client.connect(); const { rows } = await client.query("SELECT 1 AS one"); await client.end();
        console.log(JSON.stringify({ layout: c.layout, rows })); await m.stopLocalCluster(c);`;
      const loader = pathToFileURL(path.join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
      const node = [process.execPath, "--import", loader, "--input-type=module", "-e", code];
      const [file, args] = asRoot ? ["runuser", ["-u", "nobody", "--", ...node]] : [node[0]!, node.slice(1)];
      const { stdout } = await execFileAsync(file, args, { cwd: repoRoot, env: { ...process.env, HOME: dir } });
      const result = JSON.parse(stdout.split("\n").find((line) => line.startsWith("{"))!) as {
        layout: { clusterDir: string; runAsPostgres: boolean };
        rows: unknown[];
      };
      expect(result).toEqual({
        layout: expect.objectContaining({ clusterDir: path.join(dir, ".data", "postgres"), runAsPostgres: false }),
        rows: [{ one: 1 }],
      });
      expect(fs.statSync(path.join(dir, ".data", "postgres")).uid).toBe(fs.statSync(dir).uid);
      expect(await answers(port)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("when another checkout's cluster holds the port, then it says which checkout and how to stop it", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const other = checkout("other");
    await start(other, port);
    const error = await ensureLocalCluster({ checkout: checkout("mine"), port }).then(
      () => undefined,
      (e: unknown) => e as Error & { hint?: string },
    );
    expect(error?.message).toContain(`port ${port} is taken by the local database of another checkout (${other}`);
    expect(error?.hint).toMatch(/pg_ctl stop -D \S+ -m fast/);
    expect(error?.hint).toContain("PROVISIONER_PG_PORT");
  });

  it(
    "when the port is held by the cluster of a checkout that was removed, then it stops that one and starts its own",
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      const gone = checkout("removed-clone");
      await start(gone, port);
      fs.rmSync(gone, { recursive: true, force: true });
      const mine = await start(checkout("next-clone"), port);
      expect(mine.startedHere).toBe(true);
      expect(await query(mine, "SELECT setting AS dir FROM pg_settings WHERE name = 'data_directory'")).toEqual({
        dir: mine.layout.clusterDir,
      });
      await stopLocalCluster(mine);
    },
  );
});
