// Key rotation end to end: a real resource's credentials survive a rotation
// (new key first, rotate-credentials-key, old key removed); with the key gone
// they are a clear 409 naming it, and DELETE still removes everything.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { docker } from "./docker.js";
import { client, waitForOperation, waitForStatus } from "./service-client.js";

const execFileAsync = promisify(execFile);

describe("credentials key rotation, end to end", () => {
  const k1 = generateKeyringSpec("k1");
  const k2 = generateKeyringSpec("k2");
  const k3 = generateKeyringSpec("k3");
  // One Pulumi backend and projects folder across restarts, as a real deployment has.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-rotation-"));
  const shared = { PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`, PROVISIONER_PROJECTS_DIR: path.join(root, "projects") };
  const teamName = `rot${crypto.randomBytes(3).toString("hex")}`;
  let apiKey: string;
  let id: string;
  let credentials: Record<string, string>;
  let server: TestServer | undefined;

  /** The service restarted with another PROVISIONER_CREDENTIALS_KEYS. */
  async function restartWith(keys: string): Promise<ReturnType<typeof client>> {
    await server?.close();
    server = await startTestServer({ ...shared, PROVISIONER_CREDENTIALS_KEYS: keys });
    return client(server.base, apiKey);
  }

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, "state"));
    server = await startTestServer({ ...shared, PROVISIONER_CREDENTIALS_KEYS: k1 }, { runWorker: false });
    ({ apiKey } = await new TeamService(server.service.db).create(teamName, "PRO"));
  });
  afterAll(async () => {
    await server?.close();
    // What a failed DELETE left (the team's name is this test's alone).
    const filter = `label=provisioner.team=${teamName}`;
    for (const [kind, list] of [
      ["container", ["ps", "-aq"]],
      ["volume", ["volume", "ls", "-q"]],
      ["network", ["network", "ls", "-q"]],
    ] as const) {
      const ids = (await docker(...list, "--filter", filter)).split("\n").filter(Boolean);
      if (ids.length) await docker(kind, "rm", ...(kind === "container" ? ["-f"] : []), ...ids);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("credentials sealed with k1 read the same after a rotation to k2 and k1's removal", { timeout: 300_000 }, async () => {
    let api = await restartWith(k1);
    const created = await api.post("/v1/resources", { template: "small-storage", name: "keys", options: { publicNetwork: false } });
    expect(created.status).toBe(202);
    id = created.body.resource.id;
    await waitForStatus(api, id, ["ACTIVE"]);
    expect(await docker("ps", "-q", "--filter", `label=provisioner.team=${teamName}`)).not.toBe(""); // what the DELETE below must remove
    credentials = (await api.get(`/v1/resources/${id}/credentials`)).body.credentials;
    expect(credentials.password).toBeTruthy();

    await server!.close();
    server = undefined;
    // The operator's step: the tool (other test files' leftovers in this database may be on lost keys: exit 1 allowed).
    const env = { ...process.env, PROVISIONER_CREDENTIALS_KEYS: `${k2},${k1}` };
    const run = await execFileAsync(process.execPath, ["--import", "tsx", "tools/rotate-credentials-key.ts"], { env }).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(run.stdout).toMatch(/^credentials re-sealed with key k2: [1-9]\d*;/);

    api = await restartWith(k2);
    expect((await api.get(`/v1/resources/${id}/credentials`)).body).toEqual({ credentials });
  });

  it("with the key gone, GET credentials is a 409 naming the key, and DELETE still removes everything", { timeout: 300_000 }, async () => {
    const api = await restartWith(k3);
    const read = await api.get(`/v1/resources/${id}/credentials`);
    expect(read.status).toBe(409);
    expect(read.body.error.code).toBe("credentials_key_missing");
    expect(read.body.error.message).toContain("key k2");
    expect(JSON.stringify(read.body)).not.toContain(credentials.password);

    const deleted = await api.delete(`/v1/resources/${id}`);
    expect(deleted.status).toBe(202);
    expect(await waitForOperation(api, id, deleted.body.operation.id)).toMatchObject({ status: "SUCCEEDED" });
    expect((await api.get(`/v1/resources/${id}`)).body).toMatchObject({ status: "DELETED" });
    const filter = `label=provisioner.team=${teamName}`;
    const left = await Promise.all([
      docker("ps", "-aq", "--filter", filter),
      docker("volume", "ls", "-q", "--filter", filter),
      docker("network", "ls", "-q", "--filter", filter),
    ]);
    expect(left.join("").trim()).toBe("");
  });
});
