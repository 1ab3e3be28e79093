// The AWS target's resource graph for every template (new VPC or an existing
// one), and RDS for the postgres templates, with Pulumi's mocks standing in
// for the AWS API (no engine, no plugin: it cannot be built here, see README).
import * as aws from "@pulumi/aws";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TemplateSystem as TemplateSystemType } from "../../template-system.js";
import { prepareRequest } from "../../templates/index.js";
import {
  byName,
  clientPublicKey,
  commonGraph,
  expectDeployOverSsh,
  expectNoPlainSecrets,
  generatedHex,
  graph,
  hostPublicKey,
  inPlainInputs,
  invoked,
  isSecret,
  isSecretInput,
  outputOf,
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

const tags = (template: string) => ({
  Name: project,
  "provisioner.team": "qa",
  "provisioner.resource": "res",
  "provisioner.resource-id": resourceId,
  "provisioner.template": template,
});
const instanceTypes: Record<string, string> = {
  "ipfs-cluster-small": "t3.large",
  "postgres-small": "t3.large",
  "postgres-medium": "m6i.4xlarge",
  "small-storage": "t3.small",
  "medium-storage": "t3.small",
  "large-storage": "t3.small",
};
const existingVpc = { vpcId: "vpc-existing", subnetIds: ["subnet-a", "subnet-b"] };

function deploy(template: string, ports: Record<string, number>, settings: Record<string, unknown> = {}) {
  const provider = new aws.Provider("aws", { region: "eu-central-1", accessKey: "placeholder", secretKey: "placeholder" });
  return new TemplateSystem(
    "res",
    { template, name: "res", team: "qa", resourceId, ports, aws: { sshCidrs: [sshCidr], ...settings } },
    { providers: [provider] },
  );
}

const network = (prefix: string): [string, string][] => [
  ["aws:ec2/vpc:Vpc", `${prefix}-vpc`],
  ["aws:ec2/internetGateway:InternetGateway", `${prefix}-igw`],
  ["aws:ec2/routeTable:RouteTable", `${prefix}-routes`],
  ["aws:ec2/subnet:Subnet", `${prefix}-subnet-0`],
  ["aws:ec2/subnet:Subnet", `${prefix}-subnet-1`],
  ["aws:ec2/routeTableAssociation:RouteTableAssociation", `${prefix}-subnet-0-routes`],
  ["aws:ec2/routeTableAssociation:RouteTableAssociation", `${prefix}-subnet-1-routes`],
];

const server = (prefix: string): [string, string][] => [
  ["aws:ec2/keyPair:KeyPair", `${prefix}-key`],
  ["aws:ec2/securityGroup:SecurityGroup", `${prefix}-sg`],
  ["aws:ebs/volume:Volume", `${prefix}-data`],
  ["aws:ec2/instance:Instance", `${prefix}-server`],
  ["aws:ec2/volumeAttachment:VolumeAttachment", `${prefix}-data-attachment`],
];

describe("AWS target (mocked cloud API)", () => {
  describe.each(templateCases)("$template on EC2", ({ template, ports, volumeGb }) => {
    const secretNames = Object.keys(prepareRequest({ template, name: "res", team: "qa", resourceId }).secretSizes);

    it("registers a VPC with two public subnets, the security group, key pair, instance, data volume and the deploy over SSH, through the given provider", async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(graph()).toEqual(
        sorted([
          ["pulumi:providers:aws", "aws"],
          ...commonGraph(secretNames, "aws", "provisioner:aws:Server"),
          ...network("res-aws"),
          ...server("res-aws"),
        ]),
      );
      for (const r of registered.filter((r) => r.type.startsWith("aws:"))) expect(r.provider).toMatch(/::pulumi:providers:aws::aws::/);
      expect(invoked.map((i) => i.token).sort()).toEqual([
        "aws:ec2/getAmi:getAmi",
        "aws:ec2/getSubnet:getSubnet",
        "aws:index/getAvailabilityZones:getAvailabilityZones",
      ]);
      expect(byName("res-aws-vpc").inputs).toEqual({
        cidrBlock: "10.0.0.0/16",
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: tags(template),
      });
      expect(byName("res-aws-subnet-1").inputs).toEqual({
        vpcId: "res-aws-vpc-id",
        cidrBlock: "10.0.2.0/24",
        availabilityZone: "eu-central-1b",
        mapPublicIpOnLaunch: true,
        tags: tags(template),
      });
      expect(byName("res-aws-routes").inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", gatewayId: "res-aws-igw-id" }]);
    });

    it("lets in SSH from the configured CIDR and the template's published ports (IPv4 and IPv6), nothing else", async () => {
      await outputOf(deploy(template, ports).endpoint);
      const sg = byName("res-aws-sg").inputs;
      expect(sg.ingress).toEqual([
        { protocol: "tcp", fromPort: 22, toPort: 22, description: "ssh", cidrBlocks: [sshCidr] },
        ...Object.entries(ports).map(([name, port]) => ({
          protocol: "tcp",
          fromPort: port,
          toPort: port,
          description: name,
          cidrBlocks: ["0.0.0.0/0"],
          ipv6CidrBlocks: ["::/0"],
        })),
      ]);
      expect(sg.egress).toEqual([{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }]);
      expect(registered.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")).toHaveLength(1);
      expect(byName("res-aws-server").inputs.vpcSecurityGroupIds).toEqual(["res-aws-sg-id"]);
    });

    it(`sizes the instance (${instanceTypes[template]}) and a ${volumeGb} GB encrypted volume in the subnet's zone; IMDSv2 only`, async () => {
      await outputOf(deploy(template, ports).endpoint);
      expect(byName("res-aws-data").inputs).toEqual({
        availabilityZone: "eu-central-1a",
        size: volumeGb,
        type: "gp3",
        encrypted: true,
        tags: { ...tags(template), Name: `${project}-data` },
      });
      const instance = byName("res-aws-server").inputs;
      expect(instance).toMatchObject({
        ami: "ami-0debian12",
        instanceType: instanceTypes[template],
        subnetId: "res-aws-subnet-0-id",
        associatePublicIpAddress: true,
        keyName: project,
        rootBlockDevice: { volumeSize: 20, volumeType: "gp3", encrypted: true },
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
        tags: tags(template),
      });
      expect(byName("res-aws-key").inputs).toEqual({ keyName: project, publicKey: clientPublicKey, tags: tags(template) });
      expect(isSecretInput(instance.userData)).toBe(true);
      const userData = secretValue(instance.userData) as string;
      expect(userData).toContain(`${hostPublicKey} ${project}`);
      expect(userData).toContain("- /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123\n");
      expect(byName("res-aws-data-attachment").inputs).toEqual({
        deviceName: "/dev/sdf",
        volumeId: "vol-0abc123",
        instanceId: "res-aws-server-id",
      });
      const ami = invoked.find((i) => i.token === "aws:ec2/getAmi:getAmi")!.inputs;
      expect(ami).toEqual({
        owners: ["136693071363"],
        mostRecent: true,
        filters: [
          { name: "name", values: ["debian-12-amd64-*"] },
          { name: "architecture", values: ["x86_64"] },
        ],
      });
    });

    it("deploys the Compose project over SSH with the generated key (secret) and the pinned host key", async () => {
      const system = deploy(template, ports);
      expect(JSON.stringify(await outputOf(system.endpoint))).toContain(serverIp);
      expectDeployOverSsh(byName("res-deploy"));
      expect(await isSecret(system.credentials)).toBe(true);
      expectNoPlainSecrets();
    });
  });

  it("in an existing VPC creates no network, and puts the instance and its volume in the first given subnet", async () => {
    await outputOf(deploy("small-storage", { api: 19030, gateway: 19031 }, { vpc: existingVpc, ami: "ami-given" }).endpoint);
    expect(graph().filter(([type]) => type.startsWith("aws:"))).toEqual(sorted(server("res-aws")));
    expect(byName("res-aws-sg").inputs.vpcId).toBe("vpc-existing");
    expect(byName("res-aws-server").inputs).toMatchObject({ subnetId: "subnet-a", ami: "ami-given" });
    expect(invoked.map((i) => [i.token, i.inputs])).toEqual([["aws:ec2/getSubnet:getSubnet", { id: "subnet-a" }]]);
  });

  describe.each([
    ["postgres-small", { pgbouncer: 19010 }, false],
    ["postgres-medium", { pgbouncer: 19020, replica: 19021 }, true],
  ] as const)("%s on RDS", (template, ports, replica) => {
    it(`registers the generated password, a VPC, a security group for 5432 only, a subnet group and the RDS instance${replica ? " and its read replica" : ""}; no EC2, no deploy`, async () => {
      await outputOf(deploy(template, ports, { managedDatabase: true }).endpoint);
      expect(graph()).toEqual(
        sorted([
          ["pulumi:providers:aws", "aws"],
          ["provisioner:index:TemplateSystem", "res"],
          ["command:local:Command", "res-secret-password"],
          ["provisioner:aws:Postgres", "res-aws"],
          ...network("res-aws"),
          ["aws:ec2/securityGroup:SecurityGroup", "res-aws-db-sg"],
          ["aws:rds/subnetGroup:SubnetGroup", "res-aws-db-subnets"],
          ["aws:rds/instance:Instance", "res-aws-db"],
          ...(replica ? [["aws:rds/instance:Instance", "res-aws-db-replica"] as [string, string]] : []),
        ]),
      );
      expect(byName("res-aws-db-sg").inputs.ingress).toEqual([
        { protocol: "tcp", fromPort: 5432, toPort: 5432, description: "postgres", cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
      ]);
      expect(byName("res-aws-db-subnets").inputs.subnetIds).toEqual(["res-aws-subnet-0-id", "res-aws-subnet-1-id"]);
    });

    it("encrypts, keeps backups for point-in-time recovery as long as the template keeps dumps, and sets the generated password as a secret", async () => {
      await outputOf(deploy(template, ports, { managedDatabase: true }).endpoint);
      const db = byName("res-aws-db").inputs;
      expect(db).toMatchObject({
        identifier: `${project}`,
        engine: "postgres",
        engineVersion: "15",
        // The template's size: 2 vCPUs / 4 GB / 10 GB (RDS takes 20 at least), or 4 vCPUs / 16 GB / 50 GB.
        instanceClass: template === "postgres-small" ? "db.t4g.medium" : "db.t4g.xlarge",
        allocatedStorage: template === "postgres-small" ? 20 : 50,
        storageEncrypted: true,
        publiclyAccessible: true,
        dbName: project,
        username: `${project}_app`,
        dbSubnetGroupName: project,
        backupRetentionPeriod: 7,
        backupWindow: "02:00-02:30",
        finalSnapshotIdentifier: `${project}-final`,
      });
      expect(isSecretInput(db.password)).toBe(true);
      expect(secretValue(db.password)).toBe(generatedHex);
      expect(inPlainInputs(generatedHex)).toEqual([]);
      if (replica) {
        expect(byName("res-aws-db-replica").inputs).toMatchObject({
          identifier: `${project}-replica`,
          replicateSourceDb: `${project}`,
          instanceClass: "db.t4g.xlarge",
          storageEncrypted: true,
        });
      }
    });

    it("returns outputs of the template's shape, credentials secret", async () => {
      const system = deploy(template, ports, { managedDatabase: true });
      const endpoint = await outputOf(system.endpoint);
      expect(endpoint.url).toBe(`postgresql://${project}.rds.amazonaws.com:5432/${project}?sslmode=require`);
      if (replica) expect(endpoint.replicaUrl).toBe(`postgresql://${project}-replica.rds.amazonaws.com:5432/${project}?sslmode=require`);
      expect(await outputOf(system.credentials)).toMatchObject({ username: `${project}_app`, password: generatedHex });
      expect(await isSecret(system.credentials)).toBe(true);
    });
  });

  it("when RDS is asked for in an existing VPC with one subnet, then it throws before registering anything", () => {
    expect(() => deploy("postgres-small", {}, { managedDatabase: true, vpc: { vpcId: "vpc-1", subnetIds: ["subnet-a"] } })).toThrow(
      "aws.vpc.subnetIds: must list at least 2 subnets (in two availability zones)",
    );
    expect(registered.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });
});
