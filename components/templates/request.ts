// What a caller asks for, validated before anything is created.

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
 * (ports other resources hold). The caller persists the result.
 */
export function allocatePorts(
  names: readonly string[],
  taken: ReadonlySet<number>,
  range: PortRange = defaultPortRange,
): Record<string, number> {
  const ports: Record<string, number> = {};
  let next = range.from;
  for (const name of names) {
    while (next <= range.to && taken.has(next)) next++;
    if (next > range.to) {
      throw new TemplateInputError("ports", `the port range ${range.from}-${range.to} has no ${names.length} free ports left`);
    }
    ports[name] = next++;
  }
  return ports;
}
