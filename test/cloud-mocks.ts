// Test helper (vitest only), shared by the clouds' mocked tests: Pulumi's mocks standing in for the
// cloud APIs (no engine, no provider plugin), recording every resource and
// invoke, answering with the outputs the real APIs give.
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import { splitKeyPair, sshKeygenScript, type KeyPair } from "../components/targets/cloud/ssh-key.js";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

export const registered: Registered[] = [];
export const invoked: { token: string; inputs: Record<string, unknown> }[] = [];

export const generatedHex = "ab".repeat(24);

/** A throwaway key pair made now by the same script the clouds use (no key is kept in the repository). */
export function testKeyPair(comment: string): KeyPair {
  return splitKeyPair(execFileSync("sh", ["-c", sshKeygenScript(comment)], { encoding: "utf8" }));
}

/** The test resource's id, and its cloud-side name (from the id, never from team or name). */
export const resourceId = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";
export const project = "r6f1c2d3e4b5a4c7d8e9f0a1b2c3d4e5f";

const clientKeys = testKeyPair(project);
const hostKeys = testKeyPair(project);
export const clientPublicKey = clientKeys.publicKey;
/** Without its comment: how the provisioner pins it. */
export const hostPublicKey = hostKeys.publicKey.split(" ").slice(0, 2).join(" ");
export const clientPrivateKey = clientKeys.privateKey;
/** A line from inside each private key: found in a plain input only if the key leaked. */
const privateKeyLines = [clientKeys, hostKeys].map((k) => k.privateKey.split("\n")[1]!);
export const serverIp = "203.0.113.10";

// How the mocks show a secret input (@pulumi/pulumi runtime/rpc: specialSigKey, specialSecretSig).
export const secretSigKey = "4dabf18193072939515e22adb298388d";
export const secretSig = "1b47061264138c4ac30d75fd1eb44270";
export const isSecretInput = (value: unknown) =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSigKey] === secretSig;
export const secretValue = (value: unknown) => (value as { value: unknown }).value;

/** What the clouds answer with, beside the inputs, by resource type. */
function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "command:local:Command") {
    if (name.endsWith("-host-keygen")) return { stdout: `${hostKeys.publicKey}\n${hostKeys.privateKey.trimEnd()}` };
    if (name.endsWith("-keygen")) return { stdout: `${clientKeys.publicKey}\n${clientKeys.privateKey.trimEnd()}` };
    return { stdout: generatedHex };
  }
  switch (type) {
    case "command:remote:Command":
      return { stdout: "up" };
    case "hcloud:index/volume:Volume":
      return { linuxDevice: "/dev/disk/by-id/scsi-0HC_Volume_4242" };
    case "hcloud:index/server:Server":
      return { ipv4Address: serverIp };
    case "digitalocean:index/sshKey:SshKey":
      return { fingerprint: "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa" };
    case "digitalocean:index/droplet:Droplet":
      return { ipv4Address: serverIp };
    case "digitalocean:index/databaseUser:DatabaseUser":
      return { password: "do-generated-password" };
    case "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool":
      return { host: "pool.db.ondigitalocean.com", port: 25061 };
    case "digitalocean:index/databaseReplica:DatabaseReplica":
      return { host: "replica.db.ondigitalocean.com", port: 25060 };
    case "aws:ec2/instance:Instance":
      return { publicIp: serverIp };
    case "aws:rds/instance:Instance":
      return { address: `${String(inputs.identifier)}.rds.amazonaws.com`, port: 5432 };
    default:
      return {};
  }
}

const idOf = (type: string, name: string) => {
  if (type.startsWith("hcloud:")) return String(1000 + registered.length); // Hetzner ids are numbers
  if (type === "aws:ebs/volume:Volume") return "vol-0abc123";
  if (type === "digitalocean:index/droplet:Droplet") return "424242";
  return `${name}-id`;
};

export async function setUpMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const id = idOf(args.type, args.name);
        registered.push({ type: args.type, name: args.name, inputs, provider: args.provider });
        return { id, state: { ...inputs, ...outputsOf(args.type, args.name, inputs) } };
      },
      call(args) {
        invoked.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        switch (args.token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["eu-central-1a", "eu-central-1b", "eu-central-1c"] };
          case "aws:ec2/getAmi:getAmi":
            return { id: "ami-0debian12" };
          case "aws:ec2/getSubnet:getSubnet":
            return { id: (args.inputs as { id: string }).id, availabilityZone: "eu-central-1a" };
          default:
            throw new Error(`unexpected call ${args.token}`);
        }
      },
    },
    "project",
    "stack",
    false,
  );
}

export function resetRecords(): void {
  registered.length = 0;
  invoked.length = 0;
}

export const outputOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
// Output.isSecret is not in the public typings; the mocks runtime tracks it.
export const isSecret = (o: pulumi.Output<unknown>) => (o as unknown as { isSecret: Promise<boolean> }).isSecret;

/** The id the mocks gave a resource (Hetzner's are numbers). */
export const idOfRegistered = (name: string) => {
  const index = registered.findIndex((r) => r.name === name);
  const r = registered[index]!;
  return r.type.startsWith("hcloud:") ? String(1000 + index) : `${name}-id`;
};

/** Whether `text` appears in any input that is not marked secret (where the state would hold it in plain text). */
export function inPlainInputs(text: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, where: string): void => {
    if (isSecretInput(value)) return;
    if (typeof value === "string" && value.includes(text)) found.push(where);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  for (const r of registered) walk(r.inputs, r.name);
  return found;
}

export const byName = (name: string) => {
  const found = registered.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`${found.length} resources named ${name}: ${registered.map((r) => r.name).join(", ")}`);
  return found[0]!;
};

/** Every template with a port allocation, and what a cloud server for it needs. */
export const templateCases = [
  {
    template: "ipfs-cluster-small",
    ports: { restApi: 19000, pinningServiceApi: 19001, gateway0: 19002, gateway1: 19003, gateway2: 19004, metrics: 19005, gateway: 19006 },
    volumeGb: 40,
    need: "2 vCPU / 4928 MB",
  },
  { template: "postgres-small", ports: { pgbouncer: 19010 }, volumeGb: 30, need: "2 vCPU / 5632 MB" },
  { template: "postgres-medium", ports: { pgbouncer: 19020, replica: 19021 }, volumeGb: 210, need: "5 vCPU / 34560 MB" },
  { template: "small-storage", ports: { api: 19030, gateway: 19031 }, volumeGb: 15, need: "1 vCPU / 2048 MB" },
  { template: "medium-storage", ports: { api: 19040, gateway: 19041 }, volumeGb: 35, need: "1 vCPU / 2048 MB" },
  { template: "large-storage", ports: { api: 19050, gateway: 19051 }, volumeGb: 110, need: "1 vCPU / 2048 MB" },
] as const;

export const sshCidr = "198.51.100.0/24";
export const publicCidrs = ["0.0.0.0/0", "::/0"];

/** The resources every cloud deployment registers around its server: the component, the secrets, the keys, the deploy. */
export function commonGraph(secretNames: string[], cloud: string, componentType: string): [string, string][] {
  return [
    ["provisioner:index:TemplateSystem", "res"],
    ...secretNames.map((s): [string, string] => ["command:local:Command", `res-secret-${s}`]),
    [componentType, `res-${cloud}`],
    ["command:local:Command", `res-${cloud}-keygen`],
    ["command:local:Command", `res-${cloud}-host-keygen`],
    ["command:remote:Command", "res-deploy"],
    // The data volumes' step (components/model/volume-quota.ts): plain volumes there, the server's own disk bounds them.
    ["command:remote:Command", "res-volumes"],
  ];
}

export const sorted = (pairs: [string, string][]) => [...pairs].sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
export const graph = () => sorted(registered.map((r): [string, string] => [r.type, r.name]));

/** Decodes the Compose file out of the deploy script (written base64 by deploy-script.ts). */
export function composeOf(deployInputs: Record<string, unknown>): string {
  const script = secretValue(deployInputs.stdin) as string;
  return Buffer.from(script.match(/printf '%s' '([^']+)' \| base64 -d > 'docker-compose.yml'/)![1]!, "base64").toString();
}

/** What the deploy step over SSH must look like on every cloud. */
export function expectDeployOverSsh(deploy: Registered): void {
  expect(deploy.type).toBe("command:remote:Command");
  expect(isSecretInput(deploy.inputs.connection)).toBe(true);
  expect(secretValue(deploy.inputs.connection)).toEqual({
    host: serverIp,
    port: 22,
    user: "provisioner",
    privateKey: clientPrivateKey,
    hostKey: hostPublicKey,
    dialErrorLimit: 30,
    perDialTimeout: 10,
  });
  expect(deploy.inputs.create).toMatch(/^i=0; until \[ -e '\/var\/lib\/provisioner\/ready' \]; do .* create;/);
  expect(deploy.inputs.delete).toContain(`/srv/provisioner/projects/${project}`);
  expect(isSecretInput(deploy.inputs.stdin)).toBe(true);
}

/** Private keys and generated passwords reach the state only as secrets. */
export function expectNoPlainSecrets(): void {
  for (const line of privateKeyLines) expect(inPlainInputs(line)).toEqual([]);
  expect(inPlainInputs(generatedHex)).toEqual([]);
}
