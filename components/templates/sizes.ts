// Sizes: CPU and memory limits per container, and Kubo's storage.

export interface SizeSpec {
  cpus: number;
  memoryMb: number;
  /** Datastore.StorageMax of each Kubo node, in GB. */
  storageGb: number;
}

export const sizes = {
  small: { cpus: 0.5, memoryMb: 512, storageGb: 5 },
  medium: { cpus: 1, memoryMb: 1024, storageGb: 25 },
  large: { cpus: 2, memoryMb: 2048, storageGb: 100 },
} as const satisfies Record<string, SizeSpec>;

export type SizeName = keyof typeof sizes;
export const sizeNames = Object.keys(sizes) as SizeName[];
