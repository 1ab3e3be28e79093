// AWS: a Debian EC2 instance with an encrypted EBS data volume, a key pair,
// and a security group letting in only the planned ports, in a new VPC or an
// existing one. The provider comes from the caller (resource option
// `providers`), with credentials from the service's environment.
import { aws } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import { allEgress, createNetwork, securityGroupIngress, type ExistingVpc } from "./aws-network.js";
import { generateServerKeys, serverAccess, userData, type CloudServer, type CloudServerArgs } from "./server.js";
import type { ServerAccess } from "./server-access.js";

export interface AwsServerArgs extends CloudServerArgs {
  /** Use this VPC instead of creating one. */
  vpc?: ExistingVpc;
  /** AMI id; default: the newest official Debian 12 (amd64) image. */
  ami?: string;
}

/** Debian's AWS account, publisher of the official Debian AMIs. */
export const debianAmiOwner = "136693071363";

/** Nitro instances show an EBS volume as NVMe, named after the volume id. */
export const ebsDevice = (volumeId: string) => `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;

export function awsTags(resourceName: string, labels: Record<string, string>): Record<string, string> {
  return { Name: resourceName, ...labels };
}

export class AwsServer extends pulumi.ComponentResource implements CloudServer {
  readonly publicIp: pulumi.Output<string>;
  readonly access: ServerAccess;

  constructor(name: string, args: AwsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("provisioner:aws:Server", name, {}, opts);
    const parent = { parent: this };
    const tags = awsTags(args.resourceName, args.labels);
    const network = args.vpc ?? createNetwork(name, tags, this);
    const subnetId = network.subnetIds[0]!;
    const keys = generateServerKeys(name, args.resourceName, this);
    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { keyName: args.resourceName, publicKey: keys.client.publicKey, tags }, parent);
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        name: args.resourceName,
        description: `provisioner: ${args.resourceName}`,
        vpcId: network.vpcId,
        ingress: securityGroupIngress(args.firewall),
        egress: allEgress,
        tags,
      },
      parent,
    );
    const ami =
      args.ami ??
      aws.ec2.getAmiOutput(
        {
          owners: [debianAmiOwner],
          mostRecent: true,
          filters: [
            { name: "name", values: ["debian-12-amd64-*"] },
            { name: "architecture", values: ["x86_64"] },
          ],
        },
        { parent: this },
      ).id;
    // The volume is created first (its id names its device in the user data), in the subnet's zone.
    const zone = aws.ec2.getSubnetOutput({ id: subnetId }, { parent: this }).availabilityZone;
    const volume = new aws.ebs.Volume(
      `${name}-data`,
      {
        availabilityZone: zone,
        size: args.dataVolumeGb,
        type: "gp3",
        encrypted: true,
        tags: { ...tags, Name: `${args.resourceName}-data` },
      },
      parent,
    );
    const instance = new aws.ec2.Instance(
      `${name}-server`,
      {
        ami,
        instanceType: args.serverType,
        subnetId,
        associatePublicIpAddress: true,
        vpcSecurityGroupIds: [securityGroup.id],
        keyName: keyPair.keyName,
        userData: userData(keys, volume.id.apply(ebsDevice)),
        userDataReplaceOnChange: true,
        rootBlockDevice: { volumeSize: 20, volumeType: "gp3", encrypted: true },
        // IMDSv2 only: no credential theft through a request forgery.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
        tags,
      },
      parent,
    );
    new aws.ec2.VolumeAttachment(
      `${name}-data-attachment`,
      { deviceName: "/dev/sdf", volumeId: volume.id, instanceId: instance.id },
      parent,
    );

    this.publicIp = instance.publicIp;
    this.access = serverAccess(this.publicIp, keys);
    this.registerOutputs({ publicIp: this.publicIp });
  }
}
