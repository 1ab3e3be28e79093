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

const secrets = {
  PULUMI_CONFIG_PASSPHRASE: "compose-passphrase-0123",
  PROVISIONER_CREDENTIALS_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
  PROVISIONER_DB_PASSWORD: "db0123456789abcdef",
  GRAFANA_ADMIN_PASSWORD: "grafana0123456789",
};

interface ComposeService {
  ports?: (string | { host_ip?: string; published: number | string; target: number })[];
  volumes?: (string | { source: string; target: string })[];
  environment?: Record<string, string>;
}

async function resolved(env: NodeJS.ProcessEnv): Promise<{ text: string; services: Record<string, ComposeService> }> {
  const text = (await composeConfig(env)).stdout;
  return { text, services: (parse(text) as { services: Record<string, ComposeService> }).services };
}

/** host address:published:target, from docker-compose 1.29's short syntax or the plugin's long one. */
const publishedPorts = (services: Record<string, ComposeService>) =>
  Object.fromEntries(
    Object.entries(services).map(([name, s]) => [
      name,
      (s.ports ?? []).map((p) =>
        typeof p === "string" ? p.replace(/\/tcp$/, "") : `${p.host_ip ?? "0.0.0.0"}:${p.published}:${p.target}`,
      ),
    ]),
  );

describe("docker-compose.yml", () => {
  it(
    "is valid: the API on 3000, Prometheus on 9090, Grafana on 3001, all on 127.0.0.1; PostgreSQL not published",
    { timeout: 60_000 },
    async () => {
      const { services } = await resolved(secrets);
      expect(publishedPorts(services)).toEqual({
        provisioner: ["127.0.0.1:3000:3000"],
        postgres: [],
        prometheus: ["127.0.0.1:9090:9090"],
        grafana: ["127.0.0.1:3001:3000"],
      });
      // docker-compose 1.29 prints short syntax (source:target:mode), the plugin long syntax.
      const mounts = (name: string) =>
        services[name]!.volumes!.map((v) => {
          const [source, target] = typeof v === "string" ? v.split(":") : [v.source, v.target];
          return `${path.relative(repoRoot, source!)}:${target}`;
        });
      expect(mounts("prometheus")).toContain("prometheus/prometheus.yml:/etc/prometheus/prometheus.yml");
      expect(mounts("grafana")).toEqual(
        expect.arrayContaining(["grafana/provisioning:/etc/grafana/provisioning", "grafana/dashboards:/var/lib/grafana/dashboards"]),
      );
    },
  );

  it(
    "uses the passwords it is given: the database's in the service's DATABASE_URL, Grafana's admin password; no default password anywhere",
    { timeout: 60_000 },
    async () => {
      const { text, services } = await resolved(secrets);
      expect(services.postgres!.environment!.POSTGRES_PASSWORD).toBe(secrets.PROVISIONER_DB_PASSWORD);
      expect(services.provisioner!.environment!.DATABASE_URL).toBe(
        `postgresql://provisioner:${secrets.PROVISIONER_DB_PASSWORD}@postgres:5432/provisioner`,
      );
      expect(services.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD).toBe(secrets.GRAFANA_ADMIN_PASSWORD);
      expect(text).not.toMatch(/provisioner:provisioner@|PASSWORD: provisioner|admin:admin/);
    },
  );

  it(
    "when PROVISIONER_BIND_IP is set, then the API and Grafana listen there; Prometheus stays on 127.0.0.1",
    { timeout: 60_000 },
    async () => {
      const { services } = await resolved({ ...secrets, PROVISIONER_BIND_IP: "0.0.0.0" });
      expect(publishedPorts(services)).toMatchObject({
        provisioner: ["0.0.0.0:3000:3000"],
        grafana: ["0.0.0.0:3001:3000"],
        prometheus: ["127.0.0.1:9090:9090"],
      });
    },
  );

  it.each(Object.keys(secrets))("when %s is not set, then Compose refuses, naming it", { timeout: 60_000 }, async (name) => {
    await expect(composeConfig({ ...secrets, [name]: "" })).rejects.toThrow(new RegExp(name));
  });
});
