// What a caller asks for, validated before anything is created.
import crypto from "node:crypto";

/** A field-level validation error: `field` names what was wrong. */
export class TemplateInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "TemplateInputError";
  }
}

const dnsLabel = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names become container, network and stack names: DNS labels only. */
export function checkDnsLabel(field: string, value: unknown, maxLength = 63): string {
  if (typeof value !== "string" || value.length === 0) throw new TemplateInputError(field, "is required");
  if (value.length > maxLength) throw new TemplateInputError(field, `must be at most ${maxLength} characters`);
  if (!dnsLabel.test(value)) {
    throw new TemplateInputError(field, "must be a DNS label: lowercase letters, digits and '-', starting with a letter");
  }
  return value;
}

export interface PortRange {
  from: number;
  to: number;
}

export const defaultPortRange: PortRange = { from: 19000, to: 29000 };

/**
 * Chooses a free host port for each name from the range, skipping `taken`
 * (ports other resources hold). The caller persists the result. The search
 * starts at a random port and wraps around: a port a deleted resource freed is
 * then unlikely to go straight to another team (whose service its old clients
 * would reach), and control planes sharing a Docker host rarely race for one.
 */
export function allocatePorts(
  names: readonly string[],
  taken: ReadonlySet<number>,
  range: PortRange = defaultPortRange,
  start: number = crypto.randomInt(range.from, range.to + 1),
): Record<string, number> {
  const size = range.to - range.from + 1;
  const ports: Record<string, number> = {};
  let offset = 0;
  for (const name of names) {
    let port = range.from + ((start - range.from + offset) % size);
    while (offset < size && (taken.has(port) || Object.values(ports).includes(port))) {
      offset++;
      port = range.from + ((start - range.from + offset) % size);
    }
    if (offset >= size) {
      throw new TemplateInputError("ports", `the port range ${range.from}-${range.to} has no ${names.length} free ports left`);
    }
    ports[name] = port;
    offset++;
  }
  return ports;
}
