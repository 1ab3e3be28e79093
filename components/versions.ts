// Image versions a resource runs, and which changes of them an update may make:
// minor upgrades only (PATCH {"versions": {...}}). Pure data and functions: the
// API validates with them, the component turns them into image references.
import { imageDefaults, type ImageName, type ImageSet } from "./images.js";
import { TemplateInputError } from "./templates/request.js";

/**
 * What an upgrade may change, per image: Kubo and ipfs-cluster move between
 * patch releases (same major.minor: Kubo is 0.x, where a minor release may
 * change the repository format), PostgreSQL between minor releases of one
 * major (a major needs pg_upgrade or a dump and restore).
 */
const rules = {
  kubo: { fixed: 2, describe: "patch release of the same major.minor" },
  ipfsCluster: { fixed: 2, describe: "patch release of the same major.minor" },
  postgres: { fixed: 1, describe: "minor release of the same major" },
} as const satisfies Partial<Record<ImageName, { fixed: number; describe: string }>>;

export type VersionedImage = keyof typeof rules;
export type Versions = Partial<Record<VersionedImage, string>>;

/** The images of each template a client may move to another version. */
export const versionedImages: Record<string, readonly VersionedImage[]> = {
  "ipfs-cluster-small": ["kubo", "ipfsCluster"],
  "postgres-small": ["postgres"],
  "postgres-medium": ["postgres"],
  "small-storage": ["kubo"],
  "medium-storage": ["kubo"],
  "large-storage": ["kubo"],
};

/** A version as the API takes it: 1 to 3 numbers, an optional leading "v" (e.g. "0.39.1", "v1.1.7", "15.8"). */
export const versionPattern = /^v?(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,4}))?$/;

/**
 * The versions the API's schema admits for an image: those of the major (and
 * for Kubo and ipfs-cluster the minor) of the product's default image
 * (components/images.ts), e.g. `^v?0\.39(\.\d{1,4})?$`. A major change is then
 * refused by the schema (400 naming the field); whether a version is newer than
 * what a resource runs is checkVersions' part.
 */
export function versionSchemaPattern(image: VersionedImage): string {
  const fixed = versionOf(imageDefaults[image].official)!.split(".").slice(0, rules[image].fixed);
  const free = 3 - fixed.length;
  return `^v?${fixed.join("\\.")}(\\.\\d{1,4}){0,${free}}$`;
}

function parse(version: string): number[] | undefined {
  const match = versionPattern.exec(version);
  return match ? match.slice(1).map((part) => Number(part ?? 0)) : undefined;
}

/**
 * Valid on its own, but not for this resource (an image its template does not
 * run, a version older than what it runs or will run): a 409, as for options.
 * The schema admits such a body, so it is no 400 (Schemathesis' ST202 found "1.1").
 */
export class VersionConflictError extends TemplateInputError {}

/** The tag of an image reference (`ipfs/kubo:v0.39.0` → `v0.39.0`), or undefined. */
function tagOf(image: string): string | undefined {
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/") ? image.slice(colon + 1) : undefined;
}

/** The version an image reference runs, without a leading "v" ("latest" and other tags: undefined). */
export function versionOf(image: string): string | undefined {
  const tag = tagOf(image);
  return tag !== undefined && versionPattern.test(tag) ? tag.replace(/^v/, "") : undefined;
}

/** The versions a resource runs: those it was moved to, else the images' own. */
export function currentVersions(template: string, images: ImageSet, chosen: Versions): Versions {
  return Object.fromEntries((versionedImages[template] ?? []).map((name) => [name, chosen[name] ?? versionOf(images[name])]));
}

/**
 * Checks a PATCH's versions against what the resource runs; throws
 * TemplateInputError naming `versions.<image>`. Returns the versions to run.
 */
export function checkVersions(template: string, images: ImageSet, chosen: Versions, requested: Record<string, string>): Versions {
  const allowed = versionedImages[template] ?? [];
  const current = currentVersions(template, images, chosen);
  const next: Versions = { ...chosen };
  for (const [name, version] of Object.entries(requested)) {
    const field = `versions.${name}`;
    if (!(allowed as readonly string[]).includes(name))
      throw new VersionConflictError(field, `is not an image of this template; one of ${allowed.join(", ")}`);
    const image = name as VersionedImage;
    const wanted = parse(version);
    if (!wanted) throw new TemplateInputError(field, "must be a version such as 1.2.3");
    const from = current[image];
    const have = from === undefined ? undefined : parse(from);
    if (!have) throw new VersionConflictError(field, `cannot be changed: the running image ${images[image]} has no version tag`);
    const { fixed, describe } = rules[image];
    if (wanted.slice(0, fixed).join(".") !== have.slice(0, fixed).join("."))
      throw new TemplateInputError(field, `must be a ${describe} (runs ${from}): a major change is not an upgrade this API makes`);
    const order = wanted.findIndex((part, i) => part !== have[i]);
    if (order !== -1 && wanted[order]! < have[order]!)
      throw new VersionConflictError(field, `must not be older than ${from} (a downgrade)`);
    next[image] = version.replace(/^v/, "");
  }
  return next;
}

/** The image references for these versions: each image's repository, tagged like its own tag (with or without "v"). */
export function imagesWith<T extends Partial<ImageSet>>(images: T, versions: Versions | undefined): T {
  const result = { ...images };
  for (const [name, version] of Object.entries(versions ?? {}) as [VersionedImage, string][]) {
    const image = images[name];
    if (image === undefined || version === undefined) continue;
    const tag = tagOf(image);
    const repository = tag === undefined ? image : image.slice(0, -(tag.length + 1));
    (result as Partial<ImageSet>)[name] = `${repository}:${tag?.startsWith("v") ? "v" : ""}${version}`;
  }
  return result;
}
