// A resource whose create failed before its stack existed (the Pulumi backend
// could not be opened) is still deletable: DELETE sweeps what carries its
// labels, frees its ports and its name, and says what it found. Nothing mocked.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { leftovers } from "./deployment.js";
import { docker } from "./docker.js";
import { client, waitForOperation, waitForStatus, type Client } from "./service-client.js";

describe("DELETE of a resource that has no stack", () => {
  let server: TestServer;
  let api: Client;
  const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-no-backend-")), "a-file");

  beforeAll(async () => {
    // The backend's directory would have to be created inside a regular file: it cannot exist.
    fs.writeFileSync(blocker, "not a directory");
    server = await startTestServer({ PULUMI_BACKEND_URL: `file://${blocker}/state` });
    const { apiKey } = await new TeamService(server.service.db).create(`n${crypto.randomBytes(3).toString("hex")}`, "PRO");
    api = client(server.base, apiKey);
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(path.dirname(blocker), { recursive: true, force: true });
  });

  it("ends DELETED, sweeping what the failed create left, with its ports and name free again", { timeout: 180_000 }, async () => {
    const name = `orphan${process.pid}`;
    const created = await api.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } });
    expect(created.status).toBe(202);
    const id = created.body.resource.id as string;
    const failed = await waitForStatus(api, id, ["FAILED", "ACTIVE"]);
    expect(failed.status).toBe("FAILED");
    expect(failed.lastError).toMatch(/no such file|not a directory|unable to open bucket/i);
    expect(await server.service.db.portAllocation.count({ where: { resourceId: id } })).toBeGreaterThan(0);

    // What an interrupted create could have started outside any state: a volume with the resource's label.
    const project = hostNameOf(id);
    await docker("volume", "create", "--label", `provisioner.project=${project}`, `${project}-leftover`);

    const deletion = await api.delete(`/v1/resources/${id}`);
    expect(deletion.status).toBe(202);
    const operation = await waitForOperation(api, id, deletion.body.operation.id);
    expect(operation.status, operation.error).toBe("SUCCEEDED");
    expect((await api.get(`/v1/resources/${id}`)).body.status).toBe("DELETED");
    const complete = (await api.get(`/v1/resources/${id}/events`)).body.events.at(-1);
    expect(complete).toMatchObject({ stage: "complete", detail: { stack: "absent", swept: [expect.stringMatching(/^volume:/)] } });
    expect(await leftovers(project)).toEqual([]);
    expect(await server.service.db.portAllocation.count({ where: { resourceId: id } })).toBe(0);

    // The name is free again (the new create fails the same way: the backend is still unusable).
    expect((await api.post("/v1/resources", { template: "small-storage", name, options: { publicNetwork: false } })).status).toBe(202);
  });
});
