// The price table (issue 15): data, versioned. Every hour a resource runs
// (from its first ACTIVE until DELETED; core/metering.ts) costs the price of
// its team's tier, template and size, in US dollars per hour; an
// ipfs-cluster-small's price is per node (times its `peers`). A new table is a
// new `version`: segments keep the version and price they were opened with,
// so a change applies from the next segment (a resize, a new resource) on.
// Dollars are strings with at most 6 decimals, read as integer micro-dollars:
// no floating point between the table and the invoice.
import type { SizeName } from "../templates/sizes.js";

export type TierName = "FREE" | "BASIC" | "PRO" | "ENTERPRISE";

export const priceTable = {
  version: "2026-11-26",
  currency: "usd",
  /** What "monthly" means in estimates: 730 hours (365 × 24 / 12). */
  hoursPerMonth: 730,
  /** Whether a team of the tier may go on creating past its monthly budget (it is still told at 80 % and 100 %). */
  overage: { FREE: false, BASIC: false, PRO: true, ENTERPRISE: true } satisfies Record<TierName, boolean>,
  /** What the price of a template is for: the whole resource, or each node. */
  per: { "ipfs-cluster-small": "node" } as Record<string, "node" | undefined>,
  /** US dollars per hour, by tier, template and size. */
  usdPerHour: {
    FREE: {
      "postgres-small": { small: "0.0800", medium: "0.1600", large: "0.3200" },
      "postgres-medium": { small: "0.2000", medium: "0.4000", large: "0.8000" },
      "ipfs-cluster-small": { small: "0.0200", medium: "0.0400", large: "0.0800" },
      "small-storage": { small: "0.0100", medium: "0.0200", large: "0.0400" },
      "medium-storage": { small: "0.0250", medium: "0.0400", large: "0.0700" },
      "large-storage": { small: "0.0600", medium: "0.0800", large: "0.1200" },
    },
    BASIC: {
      "postgres-small": { small: "0.0800", medium: "0.1600", large: "0.3200" },
      "postgres-medium": { small: "0.2000", medium: "0.4000", large: "0.8000" },
      "ipfs-cluster-small": { small: "0.0200", medium: "0.0400", large: "0.0800" },
      "small-storage": { small: "0.0100", medium: "0.0200", large: "0.0400" },
      "medium-storage": { small: "0.0250", medium: "0.0400", large: "0.0700" },
      "large-storage": { small: "0.0600", medium: "0.0800", large: "0.1200" },
    },
    PRO: {
      "postgres-small": { small: "0.0720", medium: "0.1440", large: "0.2880" },
      "postgres-medium": { small: "0.1800", medium: "0.3600", large: "0.7200" },
      "ipfs-cluster-small": { small: "0.0180", medium: "0.0360", large: "0.0720" },
      "small-storage": { small: "0.0090", medium: "0.0180", large: "0.0360" },
      "medium-storage": { small: "0.0225", medium: "0.0360", large: "0.0630" },
      "large-storage": { small: "0.0540", medium: "0.0720", large: "0.1080" },
    },
    ENTERPRISE: {
      "postgres-small": { small: "0.0640", medium: "0.1280", large: "0.2560" },
      "postgres-medium": { small: "0.1600", medium: "0.3200", large: "0.6400" },
      "ipfs-cluster-small": { small: "0.0160", medium: "0.0320", large: "0.0640" },
      "small-storage": { small: "0.0080", medium: "0.0160", large: "0.0320" },
      "medium-storage": { small: "0.0200", medium: "0.0320", large: "0.0560" },
      "large-storage": { small: "0.0480", medium: "0.0640", large: "0.0960" },
    },
  } satisfies Record<TierName, Record<string, Record<SizeName, string>>>,
} as const;
