// Where a checkout's local database cluster lives. initdb and postgres refuse
// to run as root, so as root they run as the `postgres` user, which must be
// able to reach the cluster: a checkout inside root's home (0700 on Debian)
// is out of its reach, and so is ~/.cache. As root the cluster therefore
// lives under /var/lib/provisioner/checkouts/<checkout id>; as any other user
// it stays in the checkout's .data/, run as that user.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const rootStateDir = "/var/lib/provisioner/checkouts";

export interface ClusterLayout {
  /** The checkout this cluster serves. */
  checkout: string;
  /** Folder holding the cluster and its files. */
  stateDir: string;
  clusterDir: string;
  socketDir: string;
  /** The superuser's password: readable by the user running the bootstrap (the service), not by postgres. */
  passwordFile: string;
  logFile: string;
  /** Whether initdb and postgres run as the `postgres` user (the bootstrap runs as root). */
  runAsPostgres: boolean;
}

/** Stable per checkout (a re-clone at the same path finds its cluster again), readable in `ls`. */
export function checkoutId(checkout: string): string {
  const real = fs.realpathSync(checkout);
  const digest = crypto.createHash("sha256").update(real).digest("hex").slice(0, 12);
  return `${path.basename(real).replace(/[^A-Za-z0-9_.-]/g, "_")}-${digest}`;
}

function layoutIn(checkout: string, stateDir: string, runAsPostgres: boolean): ClusterLayout {
  return {
    checkout,
    stateDir,
    clusterDir: path.join(stateDir, "postgres"),
    socketDir: path.join(stateDir, "postgres-run"),
    passwordFile: path.join(stateDir, "postgres.password"),
    logFile: path.join(stateDir, "postgres.log"),
    runAsPostgres,
  };
}

export function clusterLayout(checkout: string, isRoot = process.getuid?.() === 0): ClusterLayout {
  const inCheckout = layoutIn(checkout, path.join(checkout, ".data"), isRoot);
  if (!isRoot) return inCheckout;
  // Clusters made before this layout existed stay where they are (they worked: their checkout was reachable).
  if (fs.existsSync(path.join(inCheckout.clusterDir, "PG_VERSION"))) return inCheckout;
  return layoutIn(checkout, path.join(rootStateDir, checkoutId(checkout)), true);
}

/** The file in a root-layout state folder naming its checkout (for "port taken by another checkout"). */
export const checkoutMarker = "checkout";

/**
 * The checkout a running cluster's data directory belongs to, if it is one the
 * bootstrap made: `<checkout>/.data/postgres` or `<rootStateDir>/<id>/postgres`.
 */
export function checkoutOfClusterDir(clusterDir: string): string | undefined {
  const stateDir = path.dirname(clusterDir);
  if (path.basename(clusterDir) !== "postgres") return undefined;
  if (path.basename(stateDir) === ".data") return path.dirname(stateDir);
  if (path.dirname(stateDir) === rootStateDir) {
    try {
      return fs.readFileSync(path.join(stateDir, checkoutMarker), "utf8").trim();
    } catch {
      return undefined;
    }
  }
  return undefined;
}
