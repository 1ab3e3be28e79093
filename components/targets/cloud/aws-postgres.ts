// postgres-small / postgres-medium on Amazon RDS for PostgreSQL: encrypted,
// automated backups kept `backupRetention` days (up to 35) so any moment in
// that window can be restored (RDS point-in-time recovery), reachable only from
// the public sources; for medium a read replica. RDS has no PgBouncer of its
// own: clients connect to PostgreSQL directly (`poolMode` does not apply).
import { aws } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import type { TemplateOutputs } from "../../templates/template.js";
import { allEgress, createNetwork, securityGroupIngress, type ExistingVpc } from "./aws-network.js";
import { awsTags } from "./aws.js";
import type { ManagedPostgresArgs } from "./digitalocean-postgres.js";
import {
  managedPostgresOutputsOf,
  managedPostgresPlan,
  postgresVersion,
  rdsBackupRetentionDays,
  rdsBackupWindow,
  rdsStorageGb,
} from "./managed-postgres.js";

export interface AwsPostgresArgs extends ManagedPostgresArgs {
  /** The master password (a generated secret). */
  password: pulumi.Input<string>;
  vpc?: ExistingVpc;
}

export const postgresPort = 5432;

export class AwsPostgres extends pulumi.ComponentResource {
  /** The template's outputs; credentials secret. */
  readonly outputs: pulumi.Output<TemplateOutputs>;

  constructor(name: string, args: AwsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("provisioner:aws:Postgres", name, {}, opts);
    const parent = { parent: this };
    const tags = awsTags(args.resourceName, args.labels);
    const network = args.vpc ?? createNetwork(name, tags, this);
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-db-sg`,
      {
        name: `${args.resourceName}-db`,
        description: `provisioner: ${args.resourceName} PostgreSQL`,
        vpcId: network.vpcId,
        ingress: securityGroupIngress([{ protocol: "tcp", port: postgresPort, sources: args.publicCidrs, description: "postgres" }]),
        egress: allEgress,
        tags,
      },
      parent,
    );
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-db-subnets`,
      { name: args.resourceName, subnetIds: network.subnetIds, tags },
      parent,
    );
    const instanceClass = managedPostgresPlan("aws", args.size);
    const common = {
      instanceClass,
      publiclyAccessible: true,
      vpcSecurityGroupIds: [securityGroup.id],
      storageEncrypted: true,
      autoMinorVersionUpgrade: true,
      tags,
    };
    const primary = new aws.rds.Instance(
      `${name}-db`,
      {
        ...common,
        identifier: args.resourceName,
        engine: "postgres",
        engineVersion: postgresVersion,
        allocatedStorage: rdsStorageGb(args.size),
        maxAllocatedStorage: 4 * rdsStorageGb(args.size),
        storageType: "gp3",
        dbName: args.database,
        username: args.username,
        password: pulumi.secret(args.password),
        dbSubnetGroupName: subnetGroup.name,
        backupRetentionPeriod: rdsBackupRetentionDays(args.options.backupRetention),
        backupWindow: rdsBackupWindow(args.options.backupTime),
        copyTagsToSnapshot: true,
        // A deleted resource leaves a last snapshot behind.
        finalSnapshotIdentifier: `${args.resourceName}-final`,
      },
      parent,
    );
    const replica = args.replica
      ? new aws.rds.Instance(
          `${name}-db-replica`,
          { ...common, identifier: `${args.resourceName}-replica`, replicateSourceDb: primary.identifier, skipFinalSnapshot: true },
          parent,
        )
      : undefined;

    this.outputs = managedPostgresOutputsOf(args.database, args.username, {
      host: primary.address,
      port: primary.port,
      password: args.password,
      replica: replica && { host: replica.address, port: replica.port },
    });
    this.registerOutputs({});
  }
}
