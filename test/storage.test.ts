// small-storage for real: one Kubo node through the Docker-host target.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { basicAuth, deployForSuite } from "./suite.js";

describe("small-storage on the local Docker host", () => {
  // publicNetwork: false — this machine has no route to the public IPFS network.
  const suite = deployForSuite({ template: "small-storage", name: `blobs${process.pid}`, team: "qa", options: { publicNetwork: false } });
  const rpc = (call: string, init: RequestInit = {}) =>
    fetch(`${suite.endpoint.api}/api/v0/${call}`, { method: "POST", ...init, headers: { authorization: basicAuth(suite.credentials) } });

  it("serves through the gateway a file added through the authenticated API", async () => {
    const content = `stored ${crypto.randomUUID()}`;
    const form = new FormData();
    form.append("file", new Blob([content]), "hello.txt");
    const added = await rpc("add?cid-version=1", { body: form });
    expect(added.status).toBe(200);
    const { Hash } = (await added.json()) as { Hash: string };
    const served = await fetch(`${suite.endpoint.gateway}/ipfs/${Hash}`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(content);
  });

  it("keeps the generated password out of the Pulumi state in plaintext", () => {
    const stateDir = path.join(suite.deployment.workDir, "state");
    const state = fs.readdirSync(stateDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), "utf8"))
      .join("\n");
    expect(state).toContain(suite.deployment.project); // the state is there...
    expect(state).not.toContain(suite.credentials.password); // ...and the secret only encrypted
  });

  it("has the size's StorageMax", async () => {
    expect(await (await rpc("config?arg=Datastore.StorageMax")).json()).toMatchObject({ Key: "Datastore.StorageMax", Value: "5GB" });
  });

  it("when the API is called without credentials, then it refuses", async () => {
    const response = await fetch(`${suite.endpoint.api}/api/v0/id`, { method: "POST" });
    expect([401, 403]).toContain(response.status);
  });
});
