// small-storage for real: one Kubo node through the Docker-host target.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftovers, testDeployment, type TestDeployment } from "./deploy.js";

describe("small-storage on the local Docker host", () => {
  let deployment: TestDeployment;
  let endpoint: Record<string, string>;
  let auth: string;
  let password: string;

  beforeAll(async () => {
    // publicNetwork: false — this machine has no route to the public IPFS network.
    deployment = await testDeployment({ template: "small-storage", name: `blobs${process.pid}`, team: "qa", options: { publicNetwork: false } });
    const outputs = await deployment.up();
    endpoint = outputs.endpoint;
    password = outputs.credentials.password!;
    auth = `Basic ${Buffer.from(`${outputs.credentials.username}:${password}`).toString("base64")}`;
  }, 300_000);

  afterAll(async () => {
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 120_000);

  it("serves through the gateway a file added through the authenticated API", async () => {
    const content = `stored ${crypto.randomUUID()}`;
    const form = new FormData();
    form.append("file", new Blob([content]), "hello.txt");
    const added = await fetch(`${endpoint.api}/api/v0/add?cid-version=1`, { method: "POST", body: form, headers: { authorization: auth } });
    expect(added.status).toBe(200);
    const { Hash } = (await added.json()) as { Hash: string };
    const served = await fetch(`${endpoint.gateway}/ipfs/${Hash}`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(content);
  });

  it("keeps the generated password out of the Pulumi state in plaintext", () => {
    const state = fs.readdirSync(path.join(deployment.workDir, "state"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), "utf8"))
      .join("\n");
    expect(state).toContain("qa-blobs"); // the state is there...
    expect(state).not.toContain(password); // ...and the secret only encrypted
  });

  it("has the size's StorageMax", async () => {
    const response = await fetch(`${endpoint.api}/api/v0/config?arg=Datastore.StorageMax`, { method: "POST", headers: { authorization: auth } });
    expect(await response.json()).toMatchObject({ Key: "Datastore.StorageMax", Value: "5GB" });
  });

  it("when the API is called without credentials, then it refuses", async () => {
    const response = await fetch(`${endpoint.api}/api/v0/id`, { method: "POST" });
    expect([401, 403]).toContain(response.status);
  });
});
