// How large each volume of a resource is: the one place storage quotas read
// sizes from. A template's data volumes share what it says its system stores
// (`dataGb`, the figure cloud data volumes are sized from too) equally; an
// ipfs-cluster peer's own state (`cluster<i>-data`: peer identity, CRDT log)
// is small and gets a fixed size. What a template's backup store holds
// (backupStoreGb) is part of dataGb but lives outside the resource's volumes
// (postgres-backup.ts), so it is not shared out; where the store is a volume
// (backupStoreVolume, on Kubernetes) that volume gets it.
import { backupStoreVolume } from "../model/system.js";
import type { PreparedRequest } from "./index.js";

/** GB of an ipfs-cluster peer's state volume. */
export const stateVolumeGb = 1;

const isStateVolume = (volume: string) => /^cluster\d+-data$/.test(volume);

/** Volume name → size in GB, for the volumes the template's system declares. */
export function volumeSizesGb(prepared: PreparedRequest, volumes: readonly string[]): Record<string, number> {
  const data = volumes.filter((v) => !isStateVolume(v) && v !== backupStoreVolume);
  const size = prepared.template.sizes[prepared.size];
  const storeGb = prepared.template.backupStoreGb?.(size, prepared.options) ?? 0;
  const dataGb = prepared.template.dataGb(size, prepared.options) - storeGb;
  const sizeOf = (v: string) => (isStateVolume(v) ? stateVolumeGb : v === backupStoreVolume ? storeGb : dataGb / data.length);
  return Object.fromEntries(volumes.map((v) => [v, sizeOf(v)]));
}

/** The same in MB; `mbPerGb` below 1024 is the tests' way to make volumes small (PROVISIONER_TEST_VOLUME_MB_PER_GB). */
export function volumeSizesMb(prepared: PreparedRequest, volumes: readonly string[], mbPerGb = 1024): Record<string, number> {
  return Object.fromEntries(Object.entries(volumeSizesGb(prepared, volumes)).map(([v, gb]) => [v, Math.round(gb * mbPerGb)]));
}
