// How full each quota-limited volume of a resource on this machine's Docker
// host is: statfs of its mount (components/model/volume-quota.ts). Read by the
// health monitor (a full volume makes the resource DEGRADED; gauges) and by
// GET /v1/resources/:id. Volumes on another host (SSH, clouds) are not
// measured from here.
import fs from "node:fs/promises";
import { volumesDir } from "../components/model/volume-quota.js";

export interface VolumeUsage {
  /** The template's volume name (pgdata, ipfs-data, ...): never user text. */
  name: string;
  /** false: the image is not mounted (a rebooted host): the resource's containers cannot start until a deploy mounts it. */
  mounted: boolean;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}

/** At or above this share of its size a volume is full: the resource is DEGRADED (writes are about to fail). */
export const fullShare = 0.95;
/**
 * Or with less than this left: PostgreSQL writes its log in 16 MB segments,
 * and stops (PANIC: could not write to file "pg_wal/...") when the next one
 * does not fit, however small a share of the volume that is.
 */
export const fullBelowBytes = 32 * 1024 * 1024;

interface StorageConfiguration {
  quota?: string;
  sizesMb?: Record<string, number>;
  legacy?: string[];
}

/** The resource's stored storage status (written at each deploy), when its sizes are enforced on this host. */
function enforcedVolumes(target: string, configuration: unknown): string[] {
  if (target !== "docker-host") return [];
  const storage = (configuration as { storage?: StorageConfiguration } | null)?.storage;
  // Volumes made before quotas existed are plain Docker volumes: nothing to measure here.
  return storage?.quota === "enforced" ? Object.keys(storage.sizesMb ?? {}).filter((v) => !storage.legacy?.includes(v)) : [];
}

export async function volumeUsage(
  projectsDir: string,
  resource: { target: string; hostName: string; configuration: unknown },
): Promise<VolumeUsage[]> {
  const names = enforcedVolumes(resource.target, resource.configuration);
  if (names.length === 0) return [];
  const dir = volumesDir(projectsDir, resource.hostName);
  return Promise.all(
    names.map(async (name): Promise<VolumeUsage> => {
      const mount = `${dir}/${name}`;
      // Not mounted, the folder is on the host's file system: its statfs would be the host's.
      const [own, parent] = await Promise.all([fs.stat(mount).catch(() => undefined), fs.stat(dir).catch(() => undefined)]);
      if (!own || !parent || own.dev === parent.dev) return { name, mounted: false, sizeBytes: 0, usedBytes: 0, availableBytes: 0 };
      const s = await fs.statfs(mount);
      return {
        name,
        mounted: true,
        sizeBytes: s.blocks * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        availableBytes: s.bavail * s.bsize,
      };
    }),
  );
}

/** What makes a resource DEGRADED: a volume not mounted, at least `fullShare` full, or with less than `fullBelowBytes` left. */
export function volumeFailures(volumes: VolumeUsage[]): { component: string; message: string }[] {
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return volumes.flatMap((v) => {
    if (!v.mounted) return [{ component: v.name, message: "volume not mounted: the next deploy (PATCH) mounts it again" }];
    if (v.usedBytes >= fullShare * v.sizeBytes || v.availableBytes < fullBelowBytes)
      return [
        {
          component: v.name,
          message: `volume full: ${mb(v.usedBytes)} of ${mb(v.sizeBytes)} MB used, ${mb(v.availableBytes)} MB left (its quota)`,
        },
      ];
    return [];
  });
}
