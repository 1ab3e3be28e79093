// postgres-small / postgres-medium on DigitalOcean Managed PostgreSQL: a
// cluster (daily backups and 7 days of point-in-time recovery are built in),
// the database and its role, a PgBouncer connection pool (what the containers
// publish), trusted sources, and for medium a read-only replica node.
import { digitalocean } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import type { PostgresOptions } from "../../templates/postgres.js";
import type { SizeSpec } from "../../templates/sizes.js";
import type { TemplateOutputs } from "../../templates/template.js";
import { digitalOceanTags } from "./digitalocean.js";
import { isIpv6Cidr } from "./firewall-plan.js";
import { doPoolSize, managedPostgresOutputsOf, managedPostgresPlan, postgresVersion } from "./managed-postgres.js";

export interface ManagedPostgresArgs {
  resourceName: string;
  labels: Record<string, string>;
  /** The template's size (sizeOf): the plan and pool are chosen from it. */
  size: SizeSpec;
  database: string;
  username: string;
  options: PostgresOptions;
  /** postgres-medium: a read-only replica. */
  replica: boolean;
  /** Who may connect. */
  publicCidrs: string[];
}

export interface DigitalOceanPostgresArgs extends ManagedPostgresArgs {
  region: string;
}

export class DigitalOceanPostgres extends pulumi.ComponentResource {
  /** The template's outputs; credentials secret. */
  readonly outputs: pulumi.Output<TemplateOutputs>;

  constructor(name: string, args: DigitalOceanPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("provisioner:digitalocean:Postgres", name, {}, opts);
    const parent = { parent: this };
    const tags = digitalOceanTags(args.labels);
    const size = managedPostgresPlan("digitalocean", args.size);
    const cluster = new digitalocean.DatabaseCluster(
      `${name}-db`,
      { name: args.resourceName, engine: "pg", version: postgresVersion, size, region: args.region, nodeCount: 1, tags },
      parent,
    );
    const database = new digitalocean.DatabaseDb(`${name}-db-database`, { clusterId: cluster.id, name: args.database }, parent);
    const user = new digitalocean.DatabaseUser(`${name}-db-user`, { clusterId: cluster.id, name: args.username }, parent);
    const pool = new digitalocean.DatabaseConnectionPool(
      `${name}-db-pool`,
      {
        clusterId: cluster.id,
        name: args.database,
        mode: args.options.poolMode,
        size: doPoolSize(args.size),
        dbName: database.name,
        user: user.name,
      },
      parent,
    );
    // Trusted sources take IPv4 addresses and blocks.
    new digitalocean.DatabaseFirewall(
      `${name}-db-firewall`,
      { clusterId: cluster.id, rules: args.publicCidrs.filter((c) => !isIpv6Cidr(c)).map((value) => ({ type: "ip_addr", value })) },
      parent,
    );
    const replica = args.replica
      ? new digitalocean.DatabaseReplica(
          `${name}-db-replica`,
          { clusterId: cluster.id, name: `${args.resourceName}-replica`, size, region: args.region, tags },
          parent,
        )
      : undefined;

    this.outputs = managedPostgresOutputsOf(args.database, args.username, {
      host: pool.host,
      port: pool.port,
      password: user.password,
      replica: replica && { host: replica.host, port: replica.port },
    });
    this.registerOutputs({});
  }
}
