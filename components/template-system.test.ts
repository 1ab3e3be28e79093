// The component's resource graph, with Pulumi's mocks (no engine): names,
// types, inputs, and which outputs are secret.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TemplateSystem as TemplateSystemType } from "./template-system.js";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];
const generated = "ab".repeat(24);
// How the mocks show a secret input (@pulumi/pulumi runtime/rpc: specialSigKey, specialSecretSig).
const secretSigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

let TemplateSystem: typeof TemplateSystemType;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        const isSecretCommand = args.name.includes("-secret-");
        return {
          id: `${args.name}-id`,
          state: { ...(args.inputs as Record<string, unknown>), stdout: isSecretCommand ? generated : "up", stderr: "" },
        };
      },
      call(args) {
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "project",
    "stack",
    false,
  );
  ({ TemplateSystem } = await import("./template-system.js"));
});
beforeEach(() => {
  registered.length = 0;
});

const outputOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
// Output.isSecret is not in the public typings; the mocks runtime tracks it.
const isSecret = (o: pulumi.Output<unknown>) => (o as unknown as { isSecret: Promise<boolean> }).isSecret;

describe("TemplateSystem (mocked engine)", () => {
  const args = {
    template: "small-storage",
    name: "blobs",
    team: "qa",
    resourceId: "2a9d8c7b-6e5f-4a3b-8c1d-0e9f8a7b6c5d",
    ports: { api: 19010, gateway: 19011 },
    target: { projectsDir: "/srv/projects" },
  };

  it("registers the secret generators, the volumes step and one deploy command on the local host", async () => {
    const system = new TemplateSystem("blobs", args);
    await outputOf(system.endpoint);
    expect(registered.map((r) => [r.type, r.name])).toEqual([
      ["provisioner:index:TemplateSystem", "blobs"],
      ["command:local:Command", "blobs-secret-apiPassword"],
      ["command:local:Command", "blobs-volumes"],
      ["command:local:Command", "blobs-deploy"],
    ]);
    expect(registered[1]!.inputs.create).toBe("od -An -vtx1 -N24 /dev/urandom | tr -d ' \\n'");
    // The volumes: sized (small-storage: 5 GB = 5120 MB), mounted under a folder named from the id; delete unmounts and removes.
    const volumes = registered[2]!.inputs;
    const ensure = typeof volumes.create === "string" ? volumes.create : (volumes.create as { value: string }).value;
    expect(ensure).toContain(`truncate -s ${5120 * 1024 * 1024} "$img.new"`);
    expect(ensure).toContain("/srv/projects/r2a9d8c7b6e5f4a3b8c1d0e9f8a7b6c5d.volumes");
    expect(ensure).not.toContain("qa-blobs");
    expect(volumes.delete).toContain("umount");
    const deploy = registered[3]!.inputs;
    expect(deploy.create).toContain(" create;");
    expect(deploy.update).toContain(" update;");
    expect(deploy.delete).toContain("down -v --remove-orphans");
    // The host-side name comes from the id, not from the team and name.
    expect(deploy.delete).toContain("/srv/projects/r2a9d8c7b6e5f4a3b8c1d0e9f8a7b6c5d");
    expect(deploy.delete).not.toContain("qa-blobs");
    // The script carries the generated password: it is a secret input.
    expect(deploy.stdin).toMatchObject({ [secretSigKey]: secretSig });
    const script = (deploy.stdin as { value: string }).value;
    expect(script).toContain("up -d --remove-orphans");
    expect(Buffer.from(script.match(/printf '%s' '([^']+)' \| base64 -d > 'docker-compose.yml'/)![1]!, "base64").toString()).toContain(
      Buffer.from(`provisioner:${generated}`).toString("base64"), // the RPC guard's credentials
    );
  });

  it("exposes the endpoint in clear and the credentials as a secret", async () => {
    const system = new TemplateSystem("blobs", args);
    expect(await outputOf(system.endpoint)).toEqual({ api: "http://127.0.0.1:19010", gateway: "http://127.0.0.1:19011" });
    expect(await isSecret(system.endpoint)).toBe(false);
    expect(await outputOf(system.credentials)).toEqual({ username: "provisioner", password: generated });
    expect(await isSecret(system.credentials)).toBe(true);
  });

  it("deploys over SSH with remote.Command when the target names a host", async () => {
    const system = new TemplateSystem("blobs", {
      ...args,
      target: { ...args.target, ssh: { host: "10.0.0.5", user: "deploy", privateKey: "KEY" } },
    });
    expect((await outputOf(system.endpoint)).api).toBe("http://10.0.0.5:19010");
    const deploy = registered.find((r) => r.name === "blobs-deploy")!;
    expect(deploy.type).toBe("command:remote:Command");
    expect(deploy.inputs.connection).toMatchObject({
      [secretSigKey]: secretSig,
      value: { host: "10.0.0.5", port: 22, user: "deploy", privateKey: "KEY" },
    });
  });

  it("publishes on 127.0.0.1 on this machine's Docker host and on 0.0.0.0 over SSH (behind the server's firewall), unless told", async () => {
    const composeOf = async (system: TemplateSystemType) => {
      await outputOf(system.endpoint);
      const script = (registered.filter((r) => r.name.endsWith("-deploy")).pop()!.inputs.stdin as { value: string }).value;
      return Buffer.from(script.match(/printf '%s' '([^']+)' \| base64 -d > 'docker-compose.yml'/)![1]!, "base64").toString();
    };
    expect(await composeOf(new TemplateSystem("blobs", args))).toContain("- 127.0.0.1:19010:5001");
    expect(await composeOf(new TemplateSystem("blobs", { ...args, target: { ...args.target, ssh: { host: "10.0.0.5" } } }))).toContain(
      "- 0.0.0.0:19010:5001",
    );
    expect(await composeOf(new TemplateSystem("blobs", { ...args, publishIp: "10.1.2.3" }))).toContain("- 10.1.2.3:19010:5001");
  });

  it("when the request is invalid, then it throws before registering anything", () => {
    expect(() => new TemplateSystem("bad", { ...args, name: "../etc" })).toThrow(/^name: /);
    expect(registered).toEqual([]);
  });
});
