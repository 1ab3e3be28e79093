// A webhook receiver on 127.0.0.1 for the tests that deliver webhooks for
// real: records every request; a path under `/flaky/` answers 500 to its
// first request, under `/down/` always, any other 200; and `until`, which waits
// for what it receives.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

export function startReceiver() {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const count = (seen.get(path) ?? 0) + 1;
      seen.set(path, count);
      const answered = path.startsWith("/down/") || (path.startsWith("/flaky/") && count === 1) ? 500 : 200;
      received.push({ path, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8"), answered });
      res.writeHead(answered).end(answered === 200 ? "ok" : "not now");
    });
  });
  return {
    received,
    server,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until it returns something truthy (a generous limit: a condition, not a speed). */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
