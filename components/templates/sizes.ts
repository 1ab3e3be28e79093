// Sizes: every template offers the same three size names, and says in its own
// file what each one is (its `sizes` table): the CPU and memory limits of its
// main service and the storage of its data. Sidecars (pooler, backups,
// guards, proxies) are sized by the template on top; quotas count them too
// (core/footprint.ts). Targets read a size through sizeOf() (index.ts).

export interface SizeSpec {
  /** CPU limit of the template's main service (the database server, each Kubo node). */
  cpus: number;
  /** Memory limit of the template's main service, in MB. */
  memoryMb: number;
  /** The data the main service may keep, in GB: Kubo's StorageMax, the database's volume. */
  storageGb: number;
}

export const sizeNames = ["small", "medium", "large"] as const;
export type SizeName = (typeof sizeNames)[number];

/** A template's sizes: what each size name means for it. */
export type TemplateSizes = Readonly<Record<SizeName, Readonly<SizeSpec>>>;
