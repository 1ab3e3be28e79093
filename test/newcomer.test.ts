// The first hour of a new operator, as the README tells it: clone the
// repository into a fresh private (0700) directory, `npm start` there, make a
// team key with `npm run create-team`, create a first resource over HTTP, see
// it ACTIVE, use it, delete it, stop the service. Nothing from this test run's
// own set-up reaches the clone: not its database, its secrets, its backend
// directory or its environment (the suite once stayed green while the first
// resource a new user created failed on a directory only the tests created).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { portIsFree } from "../automation/port-allocator.js";
import { eventually } from "./docker.js";
import { leftovers } from "./deployment.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { client, waitForStatus } from "./service-client.js";
import { clusterLayout } from "../tools/bootstrap/postgres-layout.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

/** A port nothing listens on, above the resources' range. */
async function sparePort(from: number): Promise<number> {
  for (let port = from; ; port++) if (await portIsFree(port)) return port;
}

/** The environment a person has in a new terminal: none of what `npm test`'s bootstrap added. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      key === "DATABASE_URL" ||
      key.startsWith("PULUMI_") ||
      (key.startsWith("PROVISIONER_") && key !== "PROVISIONER_CACHE_DIR") ||
      key.startsWith("VITEST") ||
      key === "NODE_ENV"
    )
      delete env[key];
  }
  return env;
}

describe("a new operator's first hour, from a fresh clone into a 0700 directory", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-newcomer-"));
  fs.chmodSync(home, 0o700);
  const clone = path.join(home, "provisioner");
  const log: string[] = [];
  let service: ChildProcess | undefined;

  afterAll(async () => {
    if (service && service.exitCode === null && service.signalCode === null) {
      process.kill(-service.pid!, "SIGINT");
      await new Promise((resolve) => service!.once("exit", resolve));
    }
    // As root the clone's database lives outside it (tools/bootstrap/postgres-layout.ts).
    if (fs.existsSync(clone)) fs.rmSync(clusterLayout(clone).stateDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it("clone → npm start → create-team → first small-storage ACTIVE and answering → DELETED → stopped", { timeout: 900_000 }, async () => {
    await execFileAsync("git", ["clone", "-q", repoRoot, clone]);
    const env = { ...userEnvironment(), PORT: String(await sparePort(39_500)), PROVISIONER_PG_PORT: String(await sparePort(55_400)) };
    const base = `http://127.0.0.1:${env.PORT}`;
    service = spawn("npm", ["start"], { cwd: clone, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [service.stdout!, service.stderr!]) stream.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    const tail = () => log.join("").split("\n").slice(-30).join("\n");

    await eventually(
      async () => {
        if (service!.exitCode !== null) throw new Error(`npm start exited ${service!.exitCode}:\n${tail()}`);
        return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok || undefined;
      },
      600_000,
      "npm start to serve /healthz",
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail()}`);
    });

    const created = await execFileAsync("npm", ["run", "-s", "create-team", "--", `newcomer${process.pid}`], { cwd: clone, env });
    const key = created.stdout.trim().split("\n").at(-1)!;
    expect(key).toMatch(/^prov_/);
    const api = client(base, key);

    const reply = await api.post("/v1/resources", { template: "small-storage", name: "first", options: { publicNetwork: false } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(202);
    const id = reply.body.resource.id as string;
    const active = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 300_000);
    expect(active.status, `${active.lastError}\n${tail()}`).toBe("ACTIVE");
    const { credentials } = (await api.get(`/v1/resources/${id}/credentials`)).body;
    const answered = await fetch(`${active.endpoint.api}/api/v0/id`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}` },
    });
    expect(answered.status).toBe(200);

    expect((await api.delete(`/v1/resources/${id}`)).status).toBe(202);
    expect((await waitForStatus(api, id, ["DELETED", "FAILED"], 180_000)).status).toBe("DELETED");
    expect(await leftovers(hostNameOf(id))).toEqual([]);

    // Stopping the service stops what it started: the port of its database is free again.
    process.kill(-service.pid!, "SIGINT");
    await new Promise((resolve) => service!.once("exit", resolve));
    await eventually(
      async () => ((await portIsFree(Number(env.PROVISIONER_PG_PORT))) ? true : undefined),
      60_000,
      "the clone's database to stop",
    );
  });
});
