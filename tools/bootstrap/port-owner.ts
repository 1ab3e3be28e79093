// Who holds a TCP port on 127.0.0.1: so that "port taken" can say by what,
// and in particular by the local database of which other checkout.
import fs from "node:fs";
import { probe } from "./exec.js";
import { checkoutOfClusterDir } from "./postgres-layout.js";

export interface PortOwner {
  pid: number;
  command: string;
  /** Set when the owner is a cluster the bootstrap made for some checkout. */
  cluster?: {
    dataDir: string;
    checkout?: string;
    /** The data directory (a removed clone's .data) or the checkout is gone: nobody will stop it but us. */
    orphaned: boolean;
  };
}

/** The listening process, from `ss` (iproute2); undefined when it cannot tell (another user's process without root). */
export async function portOwner(port: number): Promise<PortOwner | undefined> {
  const listing = await probe("ss", ["-Hltnp", `sport = :${port}`]);
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(listing.stdout);
  if (!match) return undefined;
  const command = match[1]!;
  const pid = Number(match[2]);
  if (command !== "postgres") return { pid, command };
  let cwd: string;
  try {
    // The postmaster's working directory is its data directory.
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return { pid, command };
  }
  const deleted = cwd.endsWith(" (deleted)");
  const dataDir = cwd.replace(/ \(deleted\)$/, "");
  const checkout = checkoutOfClusterDir(dataDir);
  if (checkout === undefined && !deleted) return { pid, command };
  return { pid, command, cluster: { dataDir, checkout, orphaned: deleted || (checkout !== undefined && !fs.existsSync(checkout)) } };
}
