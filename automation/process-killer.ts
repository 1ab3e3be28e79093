// The forced stop of a cancelled operation. The Automation API only sends the
// CLI one SIGINT (a graceful cancel that waits for running steps); after the
// timeout, every process of the operation — the CLI, its plugins and the
// scripts they run — is killed. They are found by a marker in their
// environment, which each inherits from the CLI (Linux /proc).
import fs from "node:fs";

export const operationMarker = "PROVISIONER_OPERATION_ID";

/** The processes of this machine (but this one) that carry the operation's id. */
export function processesOf(operationId: string): number[] {
  const needle = Buffer.from(`${operationMarker}=${operationId}\0`);
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`).includes(needle)) found.push(pid);
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

/** Sends SIGKILL to every process of the operation; returns how many. */
export function killOperation(operationId: string): number {
  const pids = processesOf(operationId);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited in between
    }
  }
  return pids.length;
}
