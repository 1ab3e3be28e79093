// Reading the price table (price-table.ts): a resource's hourly price and what
// its size meters (CPU, memory, storage), for the metering (core/metering.ts),
// the catalogue's estimates and the create response.
import { templates } from "../templates/index.js";
import { sizeNames, type SizeName } from "../templates/sizes.js";
import { priceTable, type TierName } from "./price-table.js";

export { priceTable, type TierName } from "./price-table.js";

/** "0.0425" → 42500 micro-dollars, exactly. */
export function microUsd(dollars: string): number {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(dollars);
  if (!match) throw new Error(`not a price in dollars: ${dollars}`);
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? "").padEnd(6, "0"));
}

/** Nodes the price is multiplied by: an ipfs-cluster-small's peers (default 3), else 1. */
export function priceUnits(template: string, options: unknown): number {
  if (priceTable.per[template] !== "node") return 1;
  const peers = (options as { peers?: unknown } | null)?.peers;
  return typeof peers === "number" && Number.isInteger(peers) && peers > 0 ? peers : 3;
}

/** Servers the size's CPU, memory and storage count for: each node, or a postgres-medium's primary and replica. */
export function meteredUnits(template: string, options: unknown): number {
  return template === "postgres-medium" ? 2 : priceUnits(template, options);
}

export interface Price {
  version: string;
  /** Micro-dollars per hour for the whole resource (node price × nodes). */
  microUsdPerHour: number;
  units: number;
}

/** The hourly price of a resource of `template` at `size` for a team of `tier`; undefined for a template or size the table lacks. */
export function priceOf(tier: TierName, template: string, size: string, options: unknown): Price | undefined {
  const perTemplate = (priceTable.usdPerHour[tier] as Record<string, Record<SizeName, string>>)[template];
  if (!perTemplate || !(sizeNames as readonly string[]).includes(size)) return undefined;
  const units = priceUnits(template, options);
  return { version: priceTable.version, microUsdPerHour: microUsd(perTemplate[size as SizeName]) * units, units };
}

/** What a resource's size meters: the size's CPU, memory and storage times its servers. */
export function meteredSize(template: string, size: string, options: unknown) {
  const spec = templates[template]?.sizes[size as SizeName];
  const units = meteredUnits(template, options);
  return spec
    ? { units, cpus: spec.cpus * units, memoryMb: spec.memoryMb * units, storageGb: spec.storageGb * units }
    : { units, cpus: 0, memoryMb: 0, storageGb: 0 };
}

/** Micro-dollars to cents, half up (the rounding of every line). */
export const centsOf = (micro: number): number => Math.round(micro / 10_000);

/** The estimate shown before a create: the hourly price times 730 hours, in dollars and cents. */
export function monthlyEstimate(price: Price) {
  return {
    currency: priceTable.currency,
    priceVersion: price.version,
    usdPerHour: price.microUsdPerHour / 1_000_000,
    usdPerMonth: centsOf(price.microUsdPerHour * priceTable.hoursPerMonth) / 100,
    hoursPerMonth: priceTable.hoursPerMonth,
  };
}

export const overageAllowed = (tier: TierName): boolean => priceTable.overage[tier];
