import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderCompose } from "./compose.js";
import type { SystemModel } from "./system.js";

const model: SystemModel = {
  project: "team-a-db",
  labels: { "provisioner.team": "team-a" },
  volumes: ["data"],
  files: { "init.sh": "echo hi\n" },
  services: {
    db: {
      image: "postgres:15",
      environment: { A: "1" },
      ports: [{ host: 19000, container: 5432, hostIp: "127.0.0.1" }],
      mounts: [
        { source: "data", target: "/var/lib/postgresql/data" },
        { source: "file:init.sh", target: "/init.sh", readOnly: true },
      ],
      healthCheck: { test: ["CMD", "true"], intervalSeconds: 2, timeoutSeconds: 3, retries: 4, startPeriodSeconds: 5 },
      limits: { cpus: 0.5, memoryMb: 256 },
      restart: "unless-stopped",
    },
    app: { image: "app:1", dependsOn: ["db"], limits: { cpus: 1, memoryMb: 128 }, restart: "no" },
  },
};

interface ComposeDocument {
  version: string;
  services: Record<string, Record<string, unknown>>;
  networks: unknown;
  volumes: Record<string, { name: string }>;
}

describe("renderCompose", () => {
  it("renders services, one private network and labelled volumes", () => {
    const doc = parse(renderCompose(model)) as ComposeDocument;
    expect(doc.version).toBe("2.4");
    expect(doc.services.db).toEqual({
      image: "postgres:15",
      container_name: "team-a-db-db",
      hostname: "db",
      restart: "unless-stopped",
      cpus: 0.5,
      mem_limit: "256m",
      labels: { "provisioner.team": "team-a", "provisioner.project": "team-a-db", "provisioner.service": "db" },
      networks: ["default"],
      security_opt: ["no-new-privileges:true"],
      cap_drop: ["ALL"],
      pids_limit: 512,
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } },
      environment: { A: "1" },
      ports: ["127.0.0.1:19000:5432"],
      volumes: ["data:/var/lib/postgresql/data", "./files/init.sh:/init.sh:ro"],
      healthcheck: { test: ["CMD", "true"], interval: "2s", timeout: "3s", retries: 4, start_period: "5s" },
    });
    expect(doc.services.app!.depends_on).toEqual({ db: { condition: "service_healthy" } });
    expect(doc.services.app!.cap_add).toBeUndefined();
    expect(doc.networks).toEqual({
      default: { name: "team-a-db-net", labels: { "provisioner.team": "team-a", "provisioner.project": "team-a-db" } },
    });
    expect(doc.volumes.data!.name).toBe("team-a-db-data");
  });

  it("raises a service's open-files limit and /dev/shm only when it asks", () => {
    const doc = parse(
      renderCompose({ ...model, services: { ...model.services, app: { ...model.services.app!, nofile: 11024, shmMb: 512 } } }),
    ) as ComposeDocument;
    expect(doc.services.app).toMatchObject({ ulimits: { nofile: { soft: 11024, hard: 11024 } }, shm_size: "512m" });
    expect(doc.services.db!.ulimits).toBeUndefined();
    expect(doc.services.db!.shm_size).toBeUndefined();
  });

  it("adds back only the capabilities a service names, and takes its pids limit", () => {
    const doc = parse(
      renderCompose({
        ...model,
        services: {
          ...model.services,
          app: { ...model.services.app!, capabilities: ["CHOWN", "SETUID"], pidsLimit: 1024, user: "postgres" },
        },
      }),
    ) as ComposeDocument;
    expect(doc.services.app).toMatchObject({
      cap_drop: ["ALL"],
      cap_add: ["CHOWN", "SETUID"],
      pids_limit: 1024,
      user: "postgres",
      security_opt: ["no-new-privileges:true"],
    });
  });

  it("refuses a mount of an undeclared volume and a dependency on an unknown service", () => {
    expect(() => renderCompose({ ...model, volumes: [] })).toThrow(/volume "data"/);
    expect(() => renderCompose({ ...model, services: { app: { ...model.services.app!, dependsOn: ["nope"] } } })).toThrow(
      /unknown service "nope"/,
    );
  });

  it("writes every string so that docker-compose's YAML 1.1 parser (PyYAML) reads it back as that string", () => {
    const values = [
      "off",
      "On",
      "yes",
      "n",
      "12:30",
      "1_000",
      "0b101",
      "0755",
      "1.5e+3",
      ".5",
      "2026-11-26T10:00:00Z",
      "=",
      "~",
      "",
      "plain",
      "true",
    ];
    const environment = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
    const text = renderCompose({ ...model, services: { ...model.services, db: { ...model.services.db!, environment } } });
    // The parser docker-compose 1.29 uses: what it reads is what the containers get.
    const read = JSON.parse(
      execFileSync("python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=str))"], {
        input: text,
      }).toString(),
    ) as ComposeDocument;
    expect(read.services.db!.environment).toEqual(environment);
  });
});
