// What a cloud server lets in: the template's published ports from the
// public sources, SSH from the operators' sources, nothing else. Pure data;
// each cloud turns the plan into its own firewall or security-group rules.
import net from "node:net";
import { TemplateInputError } from "../../templates/request.js";

export interface InboundRule {
  protocol: "tcp";
  port: number;
  /** CIDR blocks, IPv4 and IPv6 mixed. */
  sources: string[];
  /** Why the port is open: the template's port name, or "ssh". */
  description: string;
}

export interface FirewallPlanInput {
  /** The template's published host ports, by name (the caller's allocation). */
  ports: Record<string, number>;
  /** Who may reach the published ports. */
  publicCidrs: readonly string[];
  /** Who may reach SSH (the machine running Pulumi must be among them). */
  sshCidrs: readonly string[];
}

export const sshPort = 22;
/** Everyone, IPv4 and IPv6: the default for published ports (the templates authenticate their clients). */
export const anywhere = ["0.0.0.0/0", "::/0"] as const;

/** Checks a CIDR block ("203.0.113.0/24", "2001:db8::/32"); throws TemplateInputError naming the field. */
export function checkCidr(field: string, value: unknown): string {
  if (typeof value !== "string") throw new TemplateInputError(field, "must be a CIDR block, e.g. 203.0.113.0/24");
  const [address, bits, ...rest] = value.split("/");
  const family = net.isIP(address ?? "");
  const max = family === 4 ? 32 : 128;
  if (family === 0 || rest.length > 0 || bits === undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    throw new TemplateInputError(field, "must be a CIDR block, e.g. 203.0.113.0/24");
  }
  return value;
}

export function checkCidrs(field: string, values: unknown): string[] {
  if (!Array.isArray(values) || values.length === 0) throw new TemplateInputError(field, "must be a non-empty list of CIDR blocks");
  return values.map((v, i) => checkCidr(`${field}[${i}]`, v));
}

export const isIpv6Cidr = (cidr: string) => cidr.includes(":");

export function firewallPlan(input: FirewallPlanInput): InboundRule[] {
  const publicCidrs = checkCidrs("publicCidrs", input.publicCidrs);
  const sshCidrs = checkCidrs("sshCidrs", input.sshCidrs);
  const published = Object.entries(input.ports).sort(([, a], [, b]) => a - b);
  for (const [name, port] of published) {
    if (port === sshPort) throw new TemplateInputError(`ports.${name}`, "must not be the SSH port 22");
  }
  return [
    { protocol: "tcp", port: sshPort, sources: sshCidrs, description: "ssh" },
    ...published.map(([name, port]): InboundRule => ({ protocol: "tcp", port, sources: publicCidrs, description: name })),
  ];
}
