// Two service instances at once against one Postgres, their Pulumi state in it
// (the default backend): work is spread over both, an instance killed with
// SIGKILL (its whole process group) mid-up is taken over by the other, and the
// backend's password shows up in no process argument, log line or row.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { resolvePulumiBackend } from "../core/pulumi-backend.js";
import { leftovers } from "./deployment.js";
import { docker, eventually } from "./docker.js";
import { client, discardUnfinishedOperations, waitForStatus, type Client } from "./service-client.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const databaseUrl = process.env.DATABASE_URL!;
const backend = resolvePulumiBackend(undefined, databaseUrl);
const password = backend.env.PGPASSWORD!;
const scrapeToken = crypto.randomBytes(16).toString("hex");

interface Instance {
  id: string;
  child: ChildProcess;
  base: string;
  log: string[];
}

describe("two service instances on one Postgres (Pulumi state in it)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-instances-"));
  const db = createDatabase(databaseUrl);
  const instances: Instance[] = [];
  const logs: string[] = [];
  // Everything any process's arguments showed while the test ran.
  const seenArgs = new Set<string>();
  const sampler = setInterval(() => {
    try {
      for (const line of execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n"))
        if (line.includes(password)) seenArgs.add(line);
    } catch {
      // ps raced with an exiting process: the next sample counts.
    }
  }, 100);
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    PROVISIONER_PROJECTS_DIR: path.join(root, "projects"),
    PROVISIONER_PUBLISH_IP: "127.0.0.1",
    PULUMI_CONFIG_PASSPHRASE: "instances-test-passphrase-0123",
    PROVISIONER_CREDENTIALS_KEYS: generateKeyringSpec("inst"),
    PROVISIONER_SCRAPE_TOKEN: scrapeToken,
    OPERATION_LEASE_SECONDS: "6",
    OPERATION_CONCURRENCY: "4",
    OPERATION_INSTANCE_CONCURRENCY: "2",
    HEALTH_CHECK_INTERVAL_SECONDS: "0",
  };
  delete shared.PULUMI_BACKEND_URL;

  /** `node api/main.ts` in its own process group, as one machine's service. */
  function startInstance(id: string): Promise<Instance> {
    const child = spawn(process.execPath, ["--import", "tsx", "api/main.ts"], {
      cwd: repoRoot,
      env: { ...shared, PROVISIONER_INSTANCE_ID: id, PROVISIONER_DOCKER_HOST_ID: "local" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const instance: Instance = { id, child, base: "", log: [] };
    instances.push(instance);
    return new Promise((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        const text = chunk.toString();
        instance.log.push(text);
        logs.push(text);
        const port = /"port":(\d+)/.exec(instance.log.join(""))?.[1];
        if (port && !instance.base) {
          instance.base = `http://127.0.0.1:${port}`;
          resolve(instance);
        }
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      child.once("exit", (code) => reject(new Error(`instance ${id} exited (${code}): ${instance.log.join("")}`)));
    });
  }

  const stateRows = async (query: string, values: unknown[] = []) => {
    const state = new pg.Client({ connectionString: `${backend.postgres!.serverUrl.replace(/\/$/, "")}/${backend.postgres!.database}` });
    await state.connect();
    try {
      return (await state.query(query, values)).rows as Record<string, unknown>[];
    } finally {
      await state.end();
    }
  };

  /** This test's resources: whatever a failed run left of them in Docker is removed in afterAll. */
  const projects: string[] = [];

  afterAll(async () => {
    clearInterval(sampler);
    for (const { child } of instances) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    for (const project of projects) {
      const filter = `label=provisioner.project=${project}`;
      const containers = (await docker("ps", "-aq", "--filter", filter)).split("\n").filter(Boolean);
      if (containers.length) await docker("rm", "-fv", ...containers);
      const volumes = (await docker("volume", "ls", "-q", "--filter", filter)).split("\n").filter(Boolean);
      if (volumes.length) await docker("volume", "rm", ...volumes);
      const networks = (await docker("network", "ls", "-q", "--filter", filter)).split("\n").filter(Boolean);
      if (networks.length) await docker("network", "rm", ...networks);
    }
    await db.$disconnect();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(
    "spreads 10 creates over both, the survivor finishes an up whose instance was killed with SIGKILL, no password anywhere",
    { timeout: 900_000 },
    async () => {
      await discardUnfinishedOperations(db);
      const [a, b] = await Promise.all([startInstance("inst-a"), startInstance("inst-b")]);
      const team = `r${crypto.randomBytes(3).toString("hex")}`;
      const { apiKey } = await new TeamService(db).create(team, "PRO");
      const apis: Record<string, Client> = { "inst-a": client(a.base, apiKey), "inst-b": client(b.base, apiKey) };

      // 10 small-storage creates, half through each instance's API.
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const api = i % 2 ? apis["inst-b"]! : apis["inst-a"]!;
        const created = await api.post("/v1/resources", { template: "small-storage", name: `s${i}`, options: { publicNetwork: false } });
        expect(created.status, JSON.stringify(created.body)).toBe(202);
        ids.push(created.body.resource.id);
        projects.push(hostNameOf(created.body.resource.id));
      }
      // While they run, either instance's /readyz and /metrics say what each instance runs.
      const seenRunning = new Set<string>();
      await eventually(
        async () => {
          const ready = (await apis["inst-a"]!.get("/readyz")).body;
          for (const instance of Object.keys(ready.running ?? {})) seenRunning.add(instance);
          return seenRunning.has("inst-a") && seenRunning.has("inst-b") ? ready : undefined;
        },
        180_000,
        "both instances to run operations at once",
      );
      const readyB = (await apis["inst-b"]!.get("/readyz")).body;
      expect(readyB.instance).toEqual({ id: "inst-b", dockerHostId: "local" });
      const metrics = await fetch(`${b.base}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } }).then((r) => r.text());
      expect(metrics).toMatch(/provisioner_instance_operations_running\{instance="inst-(a|b)",kind="CREATE"\} [1-9]/);

      for (const id of ids) expect((await waitForStatus(apis["inst-a"]!, id, ["ACTIVE", "FAILED"], 600_000)).status).toBe("ACTIVE");
      const creates = await db.operation.findMany({ where: { resourceId: { in: ids } } });
      expect(creates.every((o) => o.status === "SUCCEEDED")).toBe(true);
      const ranBy = creates.map((o) => o.ranBy);
      expect(new Set(ranBy)).toEqual(new Set(["inst-a", "inst-b"]));
      const placed = await db.resource.findMany({ where: { id: { in: ids } } });
      expect(placed.every((r) => r.dockerHostId === "local")).toBe(true);

      // An 11th create; the instance that claims it is killed, whole process group, mid-up.
      const victim = (
        await apis["inst-a"]!.post("/v1/resources", { template: "small-storage", name: "victim", options: { publicNetwork: false } })
      ).body;
      const victimId: string = victim.resource.id;
      const operationId: string = victim.operation.id;
      const project = hostNameOf(victimId);
      projects.push(project);
      const running = await eventually(
        async () => {
          const operation = await db.operation.findUniqueOrThrow({ where: { id: operationId } });
          const started = await docker("ps", "-aq", "--filter", `label=provisioner.project=${project}`);
          return operation.status === "RUNNING" && started ? operation : undefined;
        },
        180_000,
        "the victim's deploy to start",
      );
      const killed = instances.find((i) => i.id === running.ranBy)!;
      const survivor = instances.find((i) => i.id !== running.ranBy)!;
      const locks = await stateRows("SELECT key FROM pulumi_state WHERE key LIKE '%/locks/%' AND key LIKE $1", [`%/${team}-victim-%`]);
      process.kill(-killed.child.pid!, "SIGKILL");
      await new Promise((resolve) => killed.child.once("exit", resolve));

      const survivorApi = apis[survivor.id]!;
      const recovered = await waitForStatus(survivorApi, victimId, ["ACTIVE", "FAILED"], 300_000);
      expect(recovered.status, recovered.lastError ?? "").toBe("ACTIVE");
      expect(await db.operation.findUniqueOrThrow({ where: { id: operationId } })).toMatchObject({
        status: "SUCCEEDED",
        ranBy: survivor.id,
        attempts: 2,
      });
      const events = await db.event.findMany({ where: { resourceId: victimId }, orderBy: { id: "asc" } });
      expect(events.map((e) => e.message).join("\n")).toMatch(/recovered the stack after an interrupted run/);
      // The stack was locked in the shared state while the killed instance ran it; no lock is left now.
      expect(locks).toHaveLength(1);
      expect(await stateRows("SELECT key FROM pulumi_state WHERE key LIKE '%/locks/%' AND key LIKE $1", [`%/${team}-%`])).toEqual([]);
      const containers = (await docker("ps", "-a", "--format", "{{.Names}}", "--filter", `label=provisioner.project=${project}`))
        .split("\n")
        .filter(Boolean);
      expect(containers.sort()).toEqual([`${project}-ipfs`, `${project}-rpc`]);

      // Everything deleted through the survivor: nothing left in Docker, no stack left in the state.
      const all = [...ids, victimId];
      for (const id of all) expect((await survivorApi.delete(`/v1/resources/${id}`)).status).toBe(202);
      for (const id of all) expect((await waitForStatus(survivorApi, id, ["DELETED", "FAILED"], 600_000)).status).toBe("DELETED");
      for (const id of all) expect(await leftovers(hostNameOf(id))).toEqual([]);
      const stacks = await stateRows("SELECT key FROM pulumi_state WHERE key LIKE '%/stacks/%'");
      // (`pulumi stack rm` keeps a `.json.bak` of the removed stack, as the file backend does.)
      expect(stacks.filter((s) => String(s.key).includes(`/${team}-`) && String(s.key).endsWith(".json"))).toEqual([]);

      // The backend's password: in no process's arguments, no log line, no row.
      expect(password.length).toBeGreaterThan(8);
      expect([...seenArgs]).toEqual([]);
      expect(logs.join("").includes(password)).toBe(false);
      const rows = await db.$queryRaw<{ text: string }[]>`
        SELECT concat_ws(' ', e.message, o.error, r.last_error) AS text FROM resources r
        LEFT JOIN operations o ON o.resource_id = r.id LEFT JOIN events e ON e.resource_id = r.id
        WHERE r.id = ANY(${all}::uuid[])`;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.text.includes(password))).toEqual([]);
      expect(await stateRows("SELECT key FROM pulumi_state WHERE data::text LIKE $1", [`%${password}%`])).toEqual([]);

      process.kill(-survivor.child.pid!, "SIGTERM");
      await new Promise((resolve) => survivor.child.once("exit", resolve));
    },
  );
});
