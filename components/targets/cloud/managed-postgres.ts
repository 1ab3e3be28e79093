// The postgres templates on a cloud's managed PostgreSQL instead of
// containers: instance sizes, and outputs of exactly the template's shape.
import * as pulumi from "@pulumi/pulumi";
import { poolerSettings } from "../../templates/postgres-tuning.js";
import type { SizeSpec } from "../../templates/sizes.js";
import type { TemplateOutputs } from "../../templates/template.js";

/** The major the containers run too (components/images.ts), so dumps move either way. */
export const postgresVersion = "15";

export interface ManagedPlan {
  name: string;
  vcpus: number;
  memoryMb: number;
}

/** Smallest first: each cloud's plans, from which the template's size picks (as server-types.ts does for servers). */
export const managedPostgresPlans: Record<"digitalocean" | "aws", readonly ManagedPlan[]> = {
  digitalocean: [
    { name: "db-s-1vcpu-1gb", vcpus: 1, memoryMb: 1024 },
    { name: "db-s-1vcpu-2gb", vcpus: 1, memoryMb: 2048 },
    { name: "db-s-2vcpu-4gb", vcpus: 2, memoryMb: 4096 },
    { name: "db-s-4vcpu-8gb", vcpus: 4, memoryMb: 8192 },
    { name: "db-s-6vcpu-16gb", vcpus: 6, memoryMb: 16384 },
    { name: "db-s-8vcpu-32gb", vcpus: 8, memoryMb: 32768 },
    { name: "db-s-16vcpu-64gb", vcpus: 16, memoryMb: 65536 },
  ],
  aws: [
    { name: "db.t4g.micro", vcpus: 2, memoryMb: 1024 },
    { name: "db.t4g.small", vcpus: 2, memoryMb: 2048 },
    { name: "db.t4g.medium", vcpus: 2, memoryMb: 4096 },
    { name: "db.t4g.large", vcpus: 2, memoryMb: 8192 },
    { name: "db.t4g.xlarge", vcpus: 4, memoryMb: 16384 },
    { name: "db.t4g.2xlarge", vcpus: 8, memoryMb: 32768 },
    { name: "db.m6g.4xlarge", vcpus: 16, memoryMb: 65536 },
  ],
};

/** The smallest plan with the size's CPUs and memory (the largest when none has). */
export function managedPostgresPlan(cloud: "digitalocean" | "aws", size: SizeSpec): string {
  const plans = managedPostgresPlans[cloud];
  return (plans.find((p) => p.vcpus >= size.cpus && p.memoryMb >= size.memoryMb) ?? plans[plans.length - 1]!).name;
}

/** RDS storage, GB: the size's, at least RDS's 20 (it grows on its own up to four times this). */
export const rdsStorageGb = (size: SizeSpec) => Math.max(20, size.storageGb);

/** PgBouncer pool size of a DigitalOcean connection pool: the containers' (postgres-tuning.ts), below every plan's limit it picks. */
export const doPoolSize = (size: SizeSpec) => poolerSettings(size).defaultPoolSize;

/** RDS keeps automated backups (and so point-in-time recovery) 1 to 35 days. */
export const rdsBackupRetentionDays = (backupRetention: number) => Math.min(Math.max(backupRetention, 1), 35);

/** "02:00" -> "02:00-02:30": RDS's daily backup window, UTC. */
export function rdsBackupWindow(backupTime: string): string {
  const [h, m] = backupTime.split(":").map(Number) as [number, number];
  const end = (h * 60 + m + 30) % (24 * 60);
  const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  return `${backupTime}-${hhmm(end)}`;
}

export interface ManagedPostgresConnection {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** postgres-medium: the read-only replica. */
  replica?: { host: string; port: number };
}

/**
 * The same keys as the template's own outputs (postgres.ts, postgres-medium.ts).
 * Managed databases take TLS connections only: the URLs ask for it.
 */
export function managedPostgresOutputs(c: ManagedPostgresConnection): TemplateOutputs {
  const tls = "?sslmode=require";
  const endpoint: Record<string, string> = {
    host: c.host,
    port: String(c.port),
    database: c.database,
    url: `postgresql://${c.host}:${c.port}/${c.database}${tls}`,
  };
  if (c.replica) {
    endpoint.replicaPort = String(c.replica.port);
    endpoint.replicaUrl = `postgresql://${c.replica.host}:${c.replica.port}/${c.database}${tls}`;
  }
  return {
    endpoint,
    credentials: {
      username: c.username,
      password: c.password,
      connectionString: `postgresql://${c.username}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${c.database}${tls}`,
    },
  };
}

export interface ManagedPostgresEndpoints {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  password: pulumi.Input<string>;
  replica?: { host: pulumi.Input<string>; port: pulumi.Input<number> };
}

/** managedPostgresOutputs over the cloud resources' outputs. */
export function managedPostgresOutputsOf(database: string, username: string, e: ManagedPostgresEndpoints): pulumi.Output<TemplateOutputs> {
  return pulumi
    .all([e.host, e.port, e.password, e.replica?.host, e.replica?.port])
    .apply(([host, port, password, replicaHost, replicaPort]) =>
      managedPostgresOutputs({
        host,
        port,
        database,
        username,
        password,
        replica: replicaHost && replicaPort ? { host: replicaHost, port: replicaPort } : undefined,
      }),
    );
}
