// The verifying stage: every endpoint the resource publishes accepts TCP
// connections (the templates' own health checks already ran inside Docker;
// this proves the published ports reach them from the service's side).
import net from "node:net";

/** host:port pairs of an endpoint map: URLs and "host:port" strings. */
export function endpointAddresses(endpoint: Record<string, string>): { host: string; port: number }[] {
  const addresses = [];
  for (const value of Object.values(endpoint)) {
    const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]*@)?([^:/]+):(\d+)/i.exec(value);
    if (match) addresses.push({ host: match[1]!, port: Number(match[2]) });
  }
  return addresses;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Waits until every address connects; throws naming the ones that never did. */
export async function verifyEndpoint(endpoint: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failing = endpointAddresses(endpoint);
  while (failing.length > 0) {
    const results = await Promise.all(failing.map((a) => connects(a.host, a.port)));
    failing = failing.filter((_, i) => !results[i]);
    if (failing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`endpoint not reachable: ${failing.map((a) => `${a.host}:${a.port}`).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
