// Teams do not trust each other: this file tries to break their isolation on
// the Docker host, through the service's HTTP API and the real engine.
// - Two teams whose team and name concatenate alike ("<t>" + "x-z" and
//   "<t>-x" + "z") both get their own system and data, and deleting one leaves
//   the other serving.
// - A container on one resource's network cannot reach another resource's
//   private ports (Kubo RPC 5001, Postgres 5432, cluster swarm 9096), while it
//   reaches its own: the probe is shown to work.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { hostNameOf } from "../components/templates/host-name.js";
import { leftovers } from "./deployment.js";
import { docker } from "./docker.js";
import { client, waitForStatus, type Client } from "./service-client.js";

interface Created {
  api: Client;
  id: string;
  project: string;
  endpoint: Record<string, string>;
  credentials: Record<string, string>;
}

const basic = (c: Record<string, string>) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

describe("tenant isolation on the Docker host", () => {
  let server: TestServer;
  const base = `t${crypto.randomBytes(2).toString("hex")}`;
  const resources: Record<string, Created> = {};
  let acme: Client;
  let acmeX: Client;

  async function create(api: Client, body: Record<string, unknown>): Promise<Created> {
    const reply = await api.post("/v1/resources", body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(202);
    const id = reply.body.resource.id as string;
    const active = await waitForStatus(api, id, ["ACTIVE", "FAILED"], 360_000);
    expect(active.status, active.lastError).toBe("ACTIVE");
    const credentials = (await api.get(`/v1/resources/${id}/credentials`)).body.credentials;
    return { api, id, project: hostNameOf(id), endpoint: active.endpoint, credentials };
  }

  /** Whether a fresh container on `network` can open a TCP connection to `address:port`. */
  async function reaches(network: string, container: string, port: number): Promise<boolean> {
    const address = await docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container);
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const probe = "use IO::Socket::INET; exit(IO::Socket::INET->new(PeerAddr => $ARGV[0], Timeout => 3) ? 0 : 1)";
    try {
      await docker(
        "run",
        "--rm",
        "--network",
        network,
        "--entrypoint",
        "perl",
        server.config.images.postgres,
        "-e",
        probe,
        `${address}:${port}`,
      );
      return true;
    } catch {
      return false;
    }
  }

  beforeAll(async () => {
    server = await startTestServer({});
    const teams = new TeamService(server.service.db);
    acme = client(server.base, (await teams.create(base, "PRO")).apiKey);
    acmeX = client(server.base, (await teams.create(`${base}-x`, "PRO")).apiKey);
    const storage = { template: "small-storage", options: { publicNetwork: false } };
    const [xz, z, cluster, db] = await Promise.all([
      create(acme, { ...storage, name: "x-z" }),
      create(acmeX, { ...storage, name: "z" }),
      create(acme, {
        template: "ipfs-cluster-small",
        name: "c",
        options: { peers: 1, replicationMin: 1, replicationMax: 1, publicNetwork: false },
      }),
      create(acmeX, { template: "postgres-small", name: "db" }),
    ]);
    Object.assign(resources, { xz, z, cluster, db });
  }, 600_000);

  afterAll(async () => {
    for (const r of Object.values(resources)) await r.api.delete(`/v1/resources/${r.id}`);
    for (const r of Object.values(resources)) await waitForStatus(r.api, r.id, ["DELETED", "FAILED"], 180_000).catch(() => undefined);
    await server?.close();
  }, 300_000);

  it("gives two teams whose team and name concatenate alike their own containers, volumes and data", async () => {
    const { xz, z } = resources;
    expect(xz!.project).not.toBe(z!.project);
    // Each container carries its own resource's id and team.
    const labels = async (r: Created) =>
      JSON.parse(await docker("inspect", "-f", "{{json .Config.Labels}}", `${r.project}-ipfs`)) as Record<string, string>;
    expect(await labels(xz!)).toMatchObject({ "provisioner.team": base, "provisioner.resource": "x-z", "provisioner.resource-id": xz!.id });
    expect(await labels(z!)).toMatchObject({
      "provisioner.team": `${base}-x`,
      "provisioner.resource": "z",
      "provisioner.resource-id": z!.id,
    });

    const add = async (r: Created, text: string) => {
      const form = new FormData();
      form.append("file", new Blob([text]), "f.txt");
      const reply = await fetch(`${r.endpoint.api}/api/v0/add?pin=true`, {
        method: "POST",
        body: form,
        headers: { authorization: basic(r.credentials) },
      });
      expect(reply.status).toBe(200);
      return ((await reply.json()) as { Hash: string }).Hash;
    };
    const pinned = async (r: Created, cid: string) =>
      (
        await fetch(`${r.endpoint.api}/api/v0/pin/ls?arg=${cid}&type=recursive`, {
          method: "POST",
          headers: { authorization: basic(r.credentials) },
        })
      ).status === 200;
    const acmeFile = await add(xz!, `acme's private file ${crypto.randomUUID()}`);
    const acmeXFile = await add(z!, `acme-x's private file ${crypto.randomUUID()}`);
    expect([await pinned(xz!, acmeFile), await pinned(xz!, acmeXFile)]).toEqual([true, false]);
    expect([await pinned(z!, acmeXFile), await pinned(z!, acmeFile)]).toEqual([true, false]);
    // One team's credentials do not open the other's node.
    expect(
      (await fetch(`${xz!.endpoint.api}/api/v0/id`, { method: "POST", headers: { authorization: basic(z!.credentials) } })).status,
    ).toBe(401);

    // Deleting acme-x's resource leaves acme's serving its file.
    const deletion = await acmeX.delete(`/v1/resources/${z!.id}`);
    expect(deletion.status).toBe(202);
    expect((await waitForStatus(acmeX, z!.id, ["DELETED", "FAILED"], 180_000)).status).toBe("DELETED");
    expect(await leftovers(z!.project)).toEqual([]);
    delete resources.z;
    const served = await fetch(`${xz!.endpoint.gateway}/ipfs/${acmeFile}`);
    expect(served.status).toBe(200);
    expect(await served.text()).toContain("acme's private file");
    expect((await acme.get(`/v1/resources/${xz!.id}`)).body.status).toBe("ACTIVE");
  }, 300_000);

  it("keeps one resource's network from another resource's private ports, while its own answer", async () => {
    const { xz, cluster, db } = resources;
    const net = (r: Created) => `${r.project}-net`;
    // Controls: on its own network, each private port answers (the probe works).
    expect(await reaches(net(xz!), `${xz!.project}-ipfs`, 5001)).toBe(true);
    expect(await reaches(net(db!), `${db!.project}-postgres`, 5432)).toBe(true);
    expect(await reaches(net(cluster!), `${cluster!.project}-cluster0`, 9096)).toBe(true);
    // Across resources (and teams): refused.
    expect(await reaches(net(xz!), `${db!.project}-postgres`, 5432)).toBe(false);
    expect(await reaches(net(xz!), `${cluster!.project}-cluster0`, 9096)).toBe(false);
    expect(await reaches(net(xz!), `${cluster!.project}-ipfs0`, 5001)).toBe(false);
    expect(await reaches(net(db!), `${xz!.project}-ipfs`, 5001)).toBe(false);
    expect(await reaches(net(cluster!), `${db!.project}-postgres`, 5432)).toBe(false);
  }, 120_000);
});
