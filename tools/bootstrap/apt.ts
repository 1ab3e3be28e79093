// Installing Debian packages, the only way this project adds system software.
import path from "node:path";
import { commandExists, probe, runLogged } from "./exec.js";
import { BootstrapError, longStep, say } from "./log.js";
import { logDir } from "./paths.js";

async function isInstalled(pkg: string): Promise<boolean> {
  const status = await probe("dpkg-query", ["-W", "-f=${Status}", pkg]);
  return status.ok && status.stdout.includes("install ok installed");
}

let listsUpdated = false;

/**
 * Installs the Debian packages that are missing. `why` is printed, and on a
 * machine where we cannot install (not root, not Debian) the error says what
 * to install by hand.
 */
export async function ensureDebianPackages(packages: string[], why: string): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) if (!(await isInstalled(pkg))) missing.push(pkg);
  if (missing.length === 0) return;

  const canInstall = process.getuid?.() === 0 && (await commandExists("apt-get")) !== undefined;
  if (!canInstall) {
    throw new BootstrapError(
      `${why}: the Debian packages ${missing.join(", ")} are missing and this bootstrap can only install them as root on Debian.`,
      `Install them (e.g. \`sudo apt-get install ${missing.join(" ")}\`) and run the command again.`,
    );
  }
  const log = path.join(logDir, "apt.log");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await longStep(`Installing ${missing.join(", ")} with apt-get (${why}; log: ${log})`, async () => {
    if (!listsUpdated) {
      await runLogged("apt-get", ["update"], log, { step: "apt-get update", env });
      listsUpdated = true;
    }
    await runLogged("apt-get", ["install", "-y", "--no-install-recommends", ...missing], log, {
      step: `apt-get install ${missing.join(" ")}`,
      env,
    });
  });
  say(`  installed ${missing.join(", ")}`);
}
