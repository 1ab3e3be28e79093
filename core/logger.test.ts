// No API key in the request log; lines for people at a terminal, JSON for machines;
// probes and scrapes only at debug level.
import { Writable } from "node:stream";
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "./db.js";
import { createLogger, logFormatFor, type LogFormat } from "./logger.js";
import { startTestServer } from "../test/test-server.js";
import { TeamService } from "../api/teams.service.js";

function sink(): { stream: Writable; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  return { stream, text: () => lines.join("") };
}

describe("request logging", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  afterAll(() => db.$disconnect());

  /** Starts the service with a logger writing to `out`, requests `paths`, returns what was logged. */
  async function logOf(level: string, format: LogFormat, paths: string[], headers: Record<string, string> = {}): Promise<string> {
    const out = sink();
    const server = await startTestServer({}, { logger: createLogger(level, out.stream, format), runWorker: false });
    try {
      for (const p of paths) await (await fetch(`${server.base}${p}`, { headers })).arrayBuffer();
    } finally {
      await server.close();
    }
    return out.text();
  }

  it("logs requests without the Authorization header's value", async () => {
    const { apiKey } = await new TeamService(db).create(`t${crypto.randomBytes(4).toString("hex")}`);
    const log = await logOf("info", "json", ["/v1/templates"], { authorization: `Bearer ${apiKey}` });
    expect(log).toContain("/v1/templates");
    expect(log).toContain('"authorization":"[redacted]"');
    expect(log).not.toContain(apiKey);
  });

  it("logs /healthz, /readyz and /metrics at debug level: not at info, with their status at debug", async () => {
    const quiet = ["/healthz", "/readyz", "/metrics"];
    const atInfo = await logOf("info", "json", [...quiet, "/v1/openapi.json"]);
    expect(atInfo).toContain('"msg":"GET /v1/openapi.json 200');
    for (const p of quiet) expect(atInfo).not.toContain(`"url":"${p}"`);
    const atDebug = (await logOf("debug", "json", quiet))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    for (const p of quiet)
      expect(atDebug).toContainEqual(
        expect.objectContaining({ level: 20, msg: expect.stringMatching(new RegExp(`^GET ${p} \\d{3} \\d+ms$`)) }),
      );
  });

  it("in the pretty format, writes one readable line per request, no JSON, still without the key", async () => {
    const { apiKey } = await new TeamService(db).create(`t${crypto.randomBytes(4).toString("hex")}`);
    const log = await logOf("info", "pretty", ["/v1/templates"], { authorization: `Bearer ${apiKey}` });
    const lines = log.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/v1\/templates 200 \d+ms$/);
    expect(log).not.toContain(apiKey);
  });
});

describe("the log format", () => {
  it.each([
    [{}, true, "pretty"],
    [{}, false, "json"],
    [{ LOG_FORMAT: "json" }, true, "json"],
    [{ LOG_FORMAT: "pretty" }, false, "pretty"],
  ] as const)("env %j on a terminal: %s gives %s", (env, tty, expected) => {
    expect(logFormatFor(env, tty)).toBe(expected);
  });
});
