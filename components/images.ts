// Container images the templates run: one place for names and versions.
// Defaults are the official images; PROVISIONER_IMAGE_* overrides them (the
// bootstrap sets these to local builds when the registry is unreachable).

export interface ImageDefault {
  /** Official image users get by default. */
  official: string;
  /** Environment variable that overrides it. */
  envVar: string;
}

export const imageDefaults = {
  kubo: { official: "ipfs/kubo:v0.39.0", envVar: "PROVISIONER_IMAGE_KUBO" },
  ipfsCluster: { official: "ipfs/ipfs-cluster:v1.1.6", envVar: "PROVISIONER_IMAGE_IPFS_CLUSTER" },
  // 15 is the major the offline fallback (Debian bookworm) provides; keeping
  // both on one major keeps dumps and replicas interchangeable.
  postgres: { official: "postgres:15", envVar: "PROVISIONER_IMAGE_POSTGRES" },
  pgbouncer: { official: "edoburu/pgbouncer:v1.24.1-p1", envVar: "PROVISIONER_IMAGE_PGBOUNCER" },
} as const satisfies Record<string, ImageDefault>;

export type ImageName = keyof typeof imageDefaults;
export type ImageSet = Record<ImageName, string>;

/** The images to use: overrides from the environment, else the official ones. */
export function resolveImages(env: NodeJS.ProcessEnv = process.env): ImageSet {
  const entries = Object.entries(imageDefaults).map(([name, image]) => [name, env[image.envVar] || image.official]);
  return Object.fromEntries(entries) as ImageSet;
}
