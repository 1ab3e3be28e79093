// Images for the templates: the official ones when they can be had, else local
// equivalents built from Debian (mmdebstrap) and the Go module proxy.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { imageDefaults, type ImageName } from "../../components/images.js";
import { ensureDebianPackages } from "./apt.js";
import { probe, runLogged } from "./exec.js";
import { goBuild } from "./go.js";
import { longStep, say } from "./log.js";
import { cacheDir, logDir, repoRoot } from "./paths.js";

const imagesDir = path.join(repoRoot, "tools", "images");

/** Debian root file systems the local images start from. */
const rootfsPackages = {
  runtime: ["ca-certificates", "tini"],
  postgres: ["ca-certificates", "tini", "postgresql-15", "pgbouncer"],
} as const;
type Rootfs = keyof typeof rootfsPackages;

interface LocalRecipe {
  rootfs: Rootfs;
  /** Tag of the local build when it differs from the official image's version. */
  version?: string;
  /** Go-built binaries to copy into the build context. */
  binaries?: () => Promise<string[]>;
}

export const kuboBuild = () =>
  goBuild({
    name: "kubo",
    module: "kubo",
    binaries: { ipfs: "github.com/ipfs/kubo/cmd/ipfs" },
    label: "Building Kubo",
    // github.com/cockroachdb/swiss at Kubo's pinned version does not build with Go 1.26.
    toolchain: "go1.25.8",
  });

export const ipfsClusterBuild = () =>
  goBuild({
    name: "ipfs-cluster",
    module: "ipfs-cluster",
    binaries: {
      "ipfs-cluster-service": "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-service",
      "ipfs-cluster-ctl": "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-ctl",
    },
    label: "Building ipfs-cluster-service and ipfs-cluster-ctl",
  });

const recipes: Record<ImageName, LocalRecipe> = {
  kubo: { rootfs: "runtime", binaries: async () => [path.join(await kuboBuild(), "ipfs")] },
  ipfsCluster: {
    rootfs: "runtime",
    binaries: async () => {
      const dir = await ipfsClusterBuild();
      return [path.join(dir, "ipfs-cluster-service"), path.join(dir, "ipfs-cluster-ctl")];
    },
  },
  postgres: { rootfs: "postgres" },
  // "-2": the entry point takes the pool limits too; a tag of its own keeps other checkouts' builds apart.
  pgbouncer: { rootfs: "postgres", version: "1.18-bookworm-2" },
};

const recipeDirs: Record<ImageName, string> = {
  kubo: "kubo",
  ipfsCluster: "ipfs-cluster",
  postgres: "postgres",
  pgbouncer: "pgbouncer",
};

function hashOf(...parts: (string | Buffer)[]): string {
  const hash = crypto.createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex").slice(0, 12);
}

async function imageExists(ref: string): Promise<boolean> {
  return (await probe("docker", ["image", "inspect", ref], 20_000)).ok;
}

async function imageLabel(ref: string, label: string): Promise<string | undefined> {
  const result = await probe("docker", ["image", "inspect", "--format", `{{ index .Config.Labels "${label}" }}`, ref], 20_000);
  return result.ok ? result.stdout.trim() : undefined;
}

/** Imports a Debian root file system as an image (mmdebstrap, once per package list). */
async function ensureRootfs(name: Rootfs): Promise<string> {
  const packages = rootfsPackages[name];
  const tag = `provisioner.local/rootfs-${name}:${hashOf(packages.join(","))}`;
  if (await imageExists(tag)) return tag;
  await ensureDebianPackages(["mmdebstrap"], "building local images");
  const log = path.join(logDir, `rootfs-${name}.log`);
  // mmdebstrap picks its output format from the extension: keep ".tar" last.
  const tar = path.join(cacheDir, "rootfs", `${name}-${process.pid}.tar`);
  fs.mkdirSync(path.dirname(tar), { recursive: true });
  try {
    await longStep(`Building a Debian root file system "${name}" with mmdebstrap (first run only; log: ${log})`, async () => {
      await runLogged("mmdebstrap", ["--variant=minbase", `--include=${packages.join(",")}`, "bookworm", tar], log, {
        step: `mmdebstrap (${name})`,
      });
      await runLogged("docker", ["import", tar, tag], log, { step: `docker import (${name})` });
    });
  } finally {
    fs.rmSync(tar, { recursive: true, force: true });
  }
  return tag;
}

/** Builds the local equivalent of an official image; rebuilt when its recipe changes. */
async function buildLocal(name: ImageName): Promise<string> {
  const recipe = recipes[name];
  const recipeDir = path.join(imagesDir, recipeDirs[name]);
  const official = imageDefaults[name].official;
  const version = recipe.version ?? official.slice(official.lastIndexOf(":") + 1);
  const tag = `provisioner.local/${recipeDirs[name]}:${version}`;

  const base = await ensureRootfs(recipe.rootfs);
  const binaries = (await recipe.binaries?.()) ?? [];
  const recipeFiles = fs
    .readdirSync(recipeDir)
    .sort()
    .map((f) => path.join(recipeDir, f));
  const key = hashOf(base, ...recipeFiles.map((f) => fs.readFileSync(f)), ...binaries);
  if ((await imageLabel(tag, "provisioner.recipe")) === key) return tag;

  const context = fs.mkdtempSync(path.join(cacheDir, `context-${recipeDirs[name]}-`));
  const log = path.join(logDir, `image-${recipeDirs[name]}.log`);
  try {
    for (const file of [...recipeFiles, ...binaries]) fs.copyFileSync(file, path.join(context, path.basename(file)));
    await longStep(`Building image ${tag} (log: ${log})`, () =>
      runLogged(
        "docker",
        [
          "build",
          "--build-arg",
          `BASE=${base}`,
          "--label",
          `provisioner.recipe=${key}`,
          "--label",
          `provisioner.equivalent-of=${official}`,
          "-t",
          tag,
          context,
        ],
        log,
        { step: `docker build ${tag}`, env: { ...process.env, DOCKER_BUILDKIT: "0" } },
      ),
    );
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

/**
 * Resolves every template image: an override from the environment, else the
 * official image (present or pulled), else a local build. Returns the
 * PROVISIONER_IMAGE_* variables for the service and the tests.
 */
export async function ensureImages(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [name, image] of Object.entries(imageDefaults) as [ImageName, (typeof imageDefaults)[ImageName]][]) {
    const override = process.env[image.envVar];
    let chosen: string;
    if (override) {
      chosen = override;
      say(`images: ${name}: using ${override} (from ${image.envVar})`);
    } else if (await imageExists(image.official)) {
      chosen = image.official;
      say(`images: ${name}: using ${image.official}`);
    } else if ((await probe("docker", ["pull", image.official], 600_000)).ok) {
      chosen = image.official;
      say(`images: ${name}: pulled ${image.official}`);
    } else {
      say(`images: ${name}: ${image.official} cannot be pulled; using a local equivalent`);
      chosen = await buildLocal(name);
      say(`images: ${name}: using ${chosen}`);
    }
    env[image.envVar] = chosen;
  }
  return env;
}
