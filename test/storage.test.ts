// small-storage for real: one Kubo node through the Docker-host target.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { docker } from "./docker.js";
import { hardeningTests } from "./hardening.js";
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
    const state = fs
      .readdirSync(stateDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), "utf8"))
      .join("\n");
    expect(state).toContain(suite.deployment.project); // the state is there...
    expect(state).not.toContain(suite.credentials.password); // ...and the secret only encrypted
  });

  it("has the size's StorageMax", async () => {
    expect(await (await rpc("config?arg=Datastore.StorageMax")).json()).toMatchObject({ Key: "Datastore.StorageMax", Value: "5GB" });
  });

  it("when the API is called without credentials or with wrong ones, then it answers 401", async () => {
    expect((await fetch(`${suite.endpoint.api}/api/v0/id`, { method: "POST" })).status).toBe(401);
    const wrong = basicAuth({ username: suite.credentials.username!, password: "wrong" });
    expect((await fetch(`${suite.endpoint.api}/api/v0/id`, { method: "POST", headers: { authorization: wrong } })).status).toBe(401);
  });

  it("serves Prometheus metrics on the RPC port without credentials", async () => {
    const response = await fetch(`${suite.endpoint.api}/debug/metrics/prometheus`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# (HELP|TYPE) /m);
  });

  it("answers nothing else on the RPC port: Kubo's debug handlers, its web UI, paths that climb out of /api/v0", async () => {
    const paths = [
      "/debug/pprof/",
      "/debug/pprof/goroutine?debug=2",
      "/debug/vars",
      "/debug/stack",
      "/webui",
      "/",
      "/api/v0/../../debug/vars",
      "/api/v0/%2e%2e/%2e%2e/debug/vars",
    ];
    for (const path of paths) {
      for (const headers of [{}, { authorization: basicAuth(suite.credentials) }] as Record<string, string>[]) {
        // Raw paths: fetch would resolve the dot segments itself.
        const status = await rawStatus(suite.endpoint.api!, `GET ${path}`, headers);
        expect({ path, status }).toEqual({ path, status: 404 });
      }
    }
    expect((await fetch(`${suite.endpoint.api}/debug/metrics/prometheus`, { method: "POST" })).status).toBe(404);
    // Kubo's port itself is not published.
    expect(await docker("port", `${suite.deployment.project}-ipfs`)).not.toMatch(/^5001/m);
  });

  hardeningTests(suite);

  // Last: an update that recreates the node. Compose then hands the old container's
  // anonymous volume (Kubo's /export) to the new one, which `down -v` alone left behind.
  it("keeps serving after an update that recreates its containers", { timeout: 300_000 }, async () => {
    await suite.deployment.up({ size: "medium" });
    expect((await rpc("id")).status).toBe(200);
  });
});

/** The status code of one request sent as written, without any normalisation of the path. */
async function rawStatus(base: string, requestLine: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `${requestLine} HTTP/1.1\r\nHost: ${hostname}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join("")}Connection: close\r\n\r\n`,
      );
    });
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("end", () => resolve(Number(answer.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0)));
    socket.on("error", reject);
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer to ${requestLine}`)));
  });
}
