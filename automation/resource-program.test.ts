// A cloud resource's program (mocked cloud API): the provider is built from the
// service's configuration, its token a secret, and the server comes from it.
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isSecretInput, project, registered, resetRecords, resourceId, setUpMocks } from "../test/cloud-mocks.js";
import { resolveImages } from "../components/images.js";

let resourceProgram: typeof import("./resource-program.js").resourceProgram;
beforeAll(async () => {
  await setUpMocks();
  ({ resourceProgram } = await import("./resource-program.js"));
});
beforeEach(resetRecords);

const host = (cloud: object) => ({
  projectsDir: "/tmp/p",
  publishIp: "0.0.0.0",
  publicHost: "127.0.0.1",
  images: resolveImages({}),
  healthTimeoutSeconds: 60,
  cloud: { sshCidrs: ["198.51.100.0/24"], ...cloud },
});
const spec = (target: string) => ({
  target,
  team: "qa",
  name: "res",
  resourceId,
  hostName: project,
  template: "small-storage",
  size: "small",
  options: { publicNetwork: false },
  ports: { api: 19000, gateway: 19001 },
});

/** Runs the program and waits until its endpoint is known: by then every resource it needs is registered. */
async function registeredBy(program: () => Promise<unknown>): Promise<void> {
  const { endpoint } = (await program()) as { endpoint: pulumi.Output<unknown> };
  await new Promise((resolve) => endpoint.apply(resolve));
}

describe("resource programs for cloud targets (mocked cloud API)", () => {
  it("hetzner: the provider carries the service's token as a secret and creates the server in the configured location", async () => {
    await registeredBy(resourceProgram(spec("hetzner"), host({ hetzner: { token: "service-token", location: "nbg1" } })));
    const provider = registered.find((r) => r.type === "pulumi:providers:hcloud")!;
    expect(isSecretInput(provider.inputs.token)).toBe(true);
    const server = registered.find((r) => r.type === "hcloud:index/server:Server")!;
    expect(server.inputs.location).toBe("nbg1");
    expect(server.provider).toMatch(/pulumi:providers:hcloud::hcloud::/);
  });

  it("digitalocean: the same, with the configured region", async () => {
    await registeredBy(resourceProgram(spec("digitalocean"), host({ digitalocean: { token: "service-token", region: "ams3" } })));
    expect(isSecretInput(registered.find((r) => r.type === "pulumi:providers:digitalocean")!.inputs.token)).toBe(true);
    expect(registered.find((r) => r.type === "digitalocean:index/droplet:Droplet")!.inputs.region).toBe("ams3");
  });

  it("docker-host: no cloud provider at all", async () => {
    await registeredBy(resourceProgram(spec("docker-host"), host({})));
    expect(registered.filter((r) => r.type.startsWith("pulumi:providers:"))).toEqual([]);
    expect(registered.map((r) => r.type)).toContain("command:local:Command");
  });
});
