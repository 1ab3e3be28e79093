// The root docker-compose.yml cannot run here (no registry); Compose itself
// validates it and resolves what users would get.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

async function composeConfig(env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  const options = { cwd: repoRoot, env: { ...process.env, ...env } };
  try {
    return await execFileAsync("docker-compose", ["config"], options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return execFileAsync("docker", ["compose", "config"], options);
  }
}

const secrets = { PULUMI_CONFIG_PASSPHRASE: "compose-passphrase-0123", PROVISIONER_CREDENTIALS_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}` };

describe("docker-compose.yml", () => {
  it("is valid: the API on 3000, PostgreSQL on 5432, Prometheus on 9090, Grafana on 3001, with the project's configuration", { timeout: 60_000 }, async () => {
    const config = parse((await composeConfig(secrets)).stdout) as { services: Record<string, { ports?: { published: number | string; target: number }[]; volumes?: (string | { source: string; target: string })[] }> };
    const published = Object.fromEntries(Object.entries(config.services).map(([name, s]) => [name, s.ports?.map((p) => `${p.published}:${p.target}`)]));
    expect(published).toEqual({ provisioner: ["3000:3000"], postgres: ["5432:5432"], prometheus: ["9090:9090"], grafana: ["3001:3000"] });
    // docker-compose 1.29 prints short syntax (source:target:mode), the plugin long syntax.
    const mounts = (name: string) =>
      config.services[name]!.volumes!.map((v) => {
        const [source, target] = typeof v === "string" ? v.split(":") : [v.source, v.target];
        return `${path.relative(repoRoot, source!)}:${target}`;
      });
    expect(mounts("prometheus")).toContain("prometheus/prometheus.yml:/etc/prometheus/prometheus.yml");
    expect(mounts("grafana")).toEqual(expect.arrayContaining(["grafana/provisioning:/etc/grafana/provisioning", "grafana/dashboards:/var/lib/grafana/dashboards"]));
  });

  it("when the service's secrets are not set, then Compose refuses, naming them", { timeout: 60_000 }, async () => {
    const env = { PULUMI_CONFIG_PASSPHRASE: "", PROVISIONER_CREDENTIALS_KEYS: "" };
    await expect(composeConfig(env)).rejects.toThrow(/PULUMI_CONFIG_PASSPHRASE|PROVISIONER_CREDENTIALS_KEYS/);
  });
});
