// A small client of ipfs-cluster's REST API for the tests.
import { basicAuth } from "./suite.js";

export interface PinStatus {
  cid: string;
  peer_map: Record<string, { peername: string; status: string }>;
}

/** ipfs-cluster's REST API streams lists as newline-delimited JSON. */
export function ndjson<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

export function clusterClient(suite: { endpoint: Record<string, string>; credentials: Record<string, string> }) {
  /** Calls the REST API with the generated credentials; throws on an error status. */
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${suite.endpoint.restApi}${path}`, {
      ...init,
      headers: { authorization: basicAuth(suite.credentials) },
      signal: AbortSignal.timeout(30_000),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body}`);
    return body;
  };
  return {
    api,
    async add(content: string): Promise<string> {
      const form = new FormData();
      form.append("file", new Blob([content]), "file.txt");
      return ndjson<{ cid: string }>(await api("/add?cid-version=1", { method: "POST", body: form }))[0]!.cid;
    },
    async pinnedPeers(cid: string): Promise<string[]> {
      const status = JSON.parse(await api(`/pins/${cid}`)) as PinStatus;
      return Object.values(status.peer_map)
        .filter((p) => p.status === "pinned")
        .map((p) => p.peername);
    },
    async peerNames(): Promise<string[]> {
      return ndjson<{ peername: string }>(await api("/peers"))
        .map((p) => p.peername)
        .sort();
    },
  };
}

/**
 * Runs `change` while sampling every pin each second. Returns the samples
 * where a pin was on fewer than `minimum` peers, and how many samples were
 * taken: a watcher that never got an answer proves nothing, so the caller
 * checks that it did. No answer (the REST API restarts with its peer during
 * an update; pins live in Kubo meanwhile) is not a sample.
 */
export async function watchReplication(
  cluster: { pinnedPeers(cid: string): Promise<string[]> },
  cids: string[],
  minimum: number,
  change: () => Promise<void>,
): Promise<{ violations: string[]; samples: number }> {
  const violations: string[] = [];
  let samples = 0;
  let changing = true;
  const watcher = (async () => {
    while (changing) {
      try {
        for (const cid of cids) {
          const n = (await cluster.pinnedPeers(cid)).length;
          if (n < minimum) violations.push(`${cid} pinned on ${n} peers`);
        }
        samples++;
      } catch {
        // Not a sample.
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  try {
    await change();
  } finally {
    changing = false;
    await watcher;
  }
  return { violations, samples };
}
