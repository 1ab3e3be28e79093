// The postgres templates on a cloud's managed PostgreSQL instead of
// containers: instance sizes, and outputs of exactly the template's shape.
import * as pulumi from "@pulumi/pulumi";
import type { SizeName } from "../../templates/sizes.js";
import type { TemplateOutputs } from "../../templates/template.js";

/** The major the containers run too (components/images.ts), so dumps move either way. */
export const postgresVersion = "15";

export const managedPostgresSizes: Record<"digitalocean" | "aws", Record<SizeName, string>> = {
  digitalocean: { small: "db-s-1vcpu-1gb", medium: "db-s-1vcpu-2gb", large: "db-s-2vcpu-4gb" },
  aws: { small: "db.t4g.micro", medium: "db.t4g.small", large: "db.t4g.medium" },
};

/** RDS storage, GB (grows on its own up to four times this). */
export const rdsStorageGb: Record<SizeName, number> = { small: 20, medium: 50, large: 100 };

/** PgBouncer pool size of a DigitalOcean connection pool: below the plan's connection limit (22, 47, 97). */
export const doPoolSize: Record<SizeName, number> = { small: 15, medium: 35, large: 75 };

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
