// The Hetzner target's resource graph for every template, with Pulumi's mocks
// standing in for the Hetzner Cloud API (no engine, no hcloud plugin: it
// cannot be built here, see README).
import * as hcloud from "@pulumi/hcloud";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TemplateSystem as TemplateSystemType } from "../../template-system.js";
import { prepareRequest } from "../../templates/index.js";
import {
  byName,
  clientPublicKey,
  commonGraph,
  composeOf,
  expectDeployOverSsh,
  expectNoPlainSecrets,
  graph,
  hostPublicKey,
  idOfRegistered,
  isSecret,
  isSecretInput,
  outputOf,
  publicCidrs,
  registered,
  resetRecords,
  secretValue,
  serverIp,
  setUpMocks,
  sorted,
  sshCidr,
  templateCases,
  project,
  resourceId,
} from "../../../test/cloud-mocks.js";

let TemplateSystem: typeof TemplateSystemType;
beforeAll(async () => {
  await setUpMocks();
  ({ TemplateSystem } = await import("../../template-system.js"));
});
beforeEach(resetRecords);

const labels = (template: string) => ({
  "provisioner.team": "qa",
  "provisioner.resource": "res",
  "provisioner.resource-id": resourceId,
  "provisioner.template": template,
});

/** The smallest type each template's default size fits (server-types.ts). */
const serverTypes: Record<string, string> = {
  "ipfs-cluster-small": "cx33",
  "postgres-small": "cx33",
  "postgres-medium": "ccx43",
  "small-storage": "cx23",
  "medium-storage": "cx23",
  "large-storage": "cx23",
};

function deploy(template: string, ports: Record<string, number>, settings: Record<string, unknown> = {}, size?: string) {
  const provider = new hcloud.Provider("hcloud", { token: "placeholder-token" });
  const system = new TemplateSystem(
    "res",
    { template, name: "res", team: "qa", resourceId, size, ports, hetzner: { location: "fsn1", sshCidrs: [sshCidr], ...settings } },
    { providers: [provider] },
  );
  return system;
}

describe("Hetzner target (mocked cloud API)", () => {
  describe.each(templateCases)("$template", ({ template, ports, volumeGb }) => {
    const secretNames = Object.keys(prepareRequest({ template, name: "res", team: "qa", resourceId }).secretSizes);

    it("registers exactly the server, its firewall, SSH key, data volume and the deploy over SSH, all hcloud resources through the given provider", async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(graph()).toEqual(
        sorted([
          ["pulumi:providers:hcloud", "hcloud"],
          ...commonGraph(secretNames, "hetzner", "provisioner:hetzner:Server"),
          ["hcloud:index/sshKey:SshKey", "res-hetzner-ssh-key"],
          ["hcloud:index/firewall:Firewall", "res-hetzner-firewall"],
          ["hcloud:index/volume:Volume", "res-hetzner-data"],
          ["hcloud:index/server:Server", "res-hetzner-server"],
          ["hcloud:index/volumeAttachment:VolumeAttachment", "res-hetzner-data-attachment"],
        ]),
      );
      for (const r of registered.filter((r) => r.type.startsWith("hcloud:")))
        expect(r.provider).toMatch(/::pulumi:providers:hcloud::hcloud::/);
    });

    it("lets in SSH from the configured CIDR and the template's published ports, nothing else", async () => {
      await outputOf(deploy(template, ports).endpoint);
      const firewall = byName("res-hetzner-firewall").inputs;
      expect(firewall.name).toBe(`${project}`);
      expect(firewall.rules).toEqual([
        { direction: "in", protocol: "tcp", port: "22", sourceIps: [sshCidr], description: "ssh" },
        ...Object.entries(ports).map(([name, port]) => ({
          direction: "in",
          protocol: "tcp",
          port: String(port),
          sourceIps: publicCidrs,
          description: name,
        })),
      ]);
      // Attached when the server is created: it is never reachable without it.
      expect(byName("res-hetzner-server").inputs.firewallIds).toEqual([Number(idOfRegistered("res-hetzner-firewall"))]);
      expect(registered.filter((r) => r.type.includes("irewall"))).toHaveLength(1);
    });

    it(`sizes the server and a ${volumeGb} GB data volume, and boots Debian with the generated keys`, async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(byName("res-hetzner-data").inputs).toEqual({
        name: `${project}-data`,
        size: volumeGb,
        location: "fsn1",
        format: "ext4",
        labels: labels(template),
      });
      const server = byName("res-hetzner-server").inputs;
      expect(server).toMatchObject({
        name: `${project}`,
        serverType: serverTypes[template],
        image: "debian-12",
        location: "fsn1",
        labels: labels(template),
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
      });
      expect(byName("res-hetzner-ssh-key").inputs).toEqual({ name: `${project}`, publicKey: clientPublicKey, labels: labels(template) });
      expect(server.sshKeys).toEqual([idOfRegistered("res-hetzner-ssh-key")]);
      // The user data carries the server's private host key: a secret.
      expect(isSecretInput(server.userData)).toBe(true);
      const userData = secretValue(server.userData) as string;
      expect(userData).toContain(clientPublicKey);
      expect(userData).toContain(`${hostPublicKey} ${project}`);
      expect(userData).toContain("- /dev/disk/by-id/scsi-0HC_Volume_4242\n");
      const attachment = byName("res-hetzner-data-attachment").inputs;
      expect(attachment).toEqual({
        serverId: Number(idOfRegistered("res-hetzner-server")),
        volumeId: Number(idOfRegistered("res-hetzner-data")),
        automount: false,
      });
    });

    it("deploys the Compose project over SSH as the deploy user, with the generated key (secret) and the pinned host key", async () => {
      const system = deploy(template, ports);
      const endpoint = await outputOf(system.endpoint);
      expectDeployOverSsh(byName("res-deploy"));
      expect(JSON.stringify(endpoint)).toContain(serverIp);
      expect(await isSecret(system.endpoint)).toBe(false);
      expect(await isSecret(system.credentials)).toBe(true);
      expectNoPlainSecrets();
    });
  });

  it.each([
    [
      "ipfs-cluster-small",
      "large",
      { restApi: 1, pinningServiceApi: 2, gateway0: 3, gateway1: 4, gateway2: 5, metrics: 6, gateway: 7 },
      "cx43",
    ],
    ["postgres-medium", "large", { pgbouncer: 1, replica: 2 }, "ccx53"],
    ["small-storage", "large", { api: 1, gateway: 2 }, "cx33"],
  ])("%s at size %s (ports %j) runs on %s, the smallest type its containers fit", async (template, size, ports, type) => {
    await outputOf(deploy(template, ports, {}, size).endpoint);
    expect(byName("res-hetzner-server").inputs.serverType).toBe(type);
  });

  it("takes the server type from the settings when given", async () => {
    await outputOf(deploy("small-storage", { api: 1, gateway: 2 }, { serverType: "cpx31" }).endpoint);
    expect(byName("res-hetzner-server").inputs.serverType).toBe("cpx31");
  });

  it("pulls the official images on the server, not this machine's local builds", async () => {
    // `npm test` sets this variable for the local images: it is restored, not removed.
    const before = process.env.PROVISIONER_IMAGE_KUBO;
    process.env.PROVISIONER_IMAGE_KUBO = "provisioner/kubo:local";
    try {
      await outputOf(deploy("small-storage", { api: 1, gateway: 2 }).endpoint);
    } finally {
      if (before === undefined) delete process.env.PROVISIONER_IMAGE_KUBO;
      else process.env.PROVISIONER_IMAGE_KUBO = before;
    }
    const compose = composeOf(byName("res-deploy").inputs);
    expect(compose).toContain("image: ipfs/kubo:v0.39.0");
    expect(compose).not.toContain("provisioner/kubo:local");
  });

  it.each([
    [{ sshCidrs: [] }, "hetzner.sshCidrs: must be a non-empty list of CIDR blocks"],
    [{ sshCidrs: ["0.0.0.0"] }, "hetzner.sshCidrs[0]: must be a CIDR block"],
    [{ location: "" }, "hetzner.location: is required"],
    [{ publicCidrs: ["everyone"] }, "hetzner.publicCidrs[0]: must be a CIDR block"],
  ])("when the settings are %j, then it throws before registering anything", (settings, message) => {
    expect(() => deploy("small-storage", { api: 1, gateway: 2 }, settings)).toThrow(message);
    expect(registered.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });

  it("when both a Docker host and a cloud are named, then it throws before registering anything", () => {
    expect(
      () =>
        new TemplateSystem("res", {
          template: "small-storage",
          name: "res",
          team: "qa",
          resourceId,
          ports: { api: 1, gateway: 2 },
          target: { projectsDir: "/x" },
          hetzner: { location: "fsn1", sshCidrs: [sshCidr] },
        }),
    ).toThrow("target: Exactly one of `target`, `kubernetes`, `hetzner`, `digitalocean` or `aws` must be provided.");
    expect(registered.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });
});
