// Where AWS resources of one resource live: a new VPC with two public subnets
// in two availability zones (RDS needs two), or subnets of an existing VPC.
import type * as awsTypes from "@pulumi/aws";
import { aws } from "./sdk.js";
import * as pulumi from "@pulumi/pulumi";
import type { InboundRule } from "./firewall-plan.js";
import { isIpv6Cidr } from "./firewall-plan.js";

export interface ExistingVpc {
  vpcId: string;
  /** Subnets with a route to an internet gateway; the server uses the first, RDS all (two AZs at least). */
  subnetIds: string[];
}

export interface AwsNetwork {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
}

export const vpcCidr = "10.0.0.0/16";

/** The new VPC's public subnets: one per zone, in the first two available zones. */
export function createNetwork(name: string, tags: Record<string, string>, parent: pulumi.Resource): AwsNetwork {
  const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent });
  const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags }, { parent });
  const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, { parent });
  const routes = new aws.ec2.RouteTable(
    `${name}-routes`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags },
    { parent },
  );
  const subnetIds = [0, 1].map((i) => {
    const subnet = new aws.ec2.Subnet(
      `${name}-subnet-${i}`,
      {
        vpcId: vpc.id,
        cidrBlock: `10.0.${i + 1}.0/24`,
        availabilityZone: zones.names.apply((names) => names[i]!),
        mapPublicIpOnLaunch: true,
        tags,
      },
      { parent },
    );
    new aws.ec2.RouteTableAssociation(`${name}-subnet-${i}-routes`, { subnetId: subnet.id, routeTableId: routes.id }, { parent });
    return subnet.id;
  });
  return { vpcId: vpc.id, subnetIds };
}

/** Security-group ingress from the plan; IPv4 and IPv6 sources go in their own lists. */
export function securityGroupIngress(plan: InboundRule[]): awsTypes.types.input.ec2.SecurityGroupIngress[] {
  return plan.map((rule) => {
    const ipv4 = rule.sources.filter((c) => !isIpv6Cidr(c));
    const ipv6 = rule.sources.filter(isIpv6Cidr);
    return {
      protocol: rule.protocol,
      fromPort: rule.port,
      toPort: rule.port,
      description: rule.description,
      ...(ipv4.length > 0 && { cidrBlocks: ipv4 }),
      ...(ipv6.length > 0 && { ipv6CidrBlocks: ipv6 }),
    };
  });
}

/** Out: anything (images, packages). */
export const allEgress: awsTypes.types.input.ec2.SecurityGroupEgress[] = [
  { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
];
