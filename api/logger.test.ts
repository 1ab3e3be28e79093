// No API key in the request log.
import { Writable } from "node:stream";
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "./db.js";
import { createLogger } from "./logger.js";
import { startTestServer } from "./test-server.js";
import { TeamService } from "./teams.service.js";

describe("request logging", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  afterAll(() => db.$disconnect());

  it("logs requests without the Authorization header's value", async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
    const { apiKey } = await new TeamService(db).create(`t${crypto.randomBytes(4).toString("hex")}`);
    const server = await startTestServer({}, { logger: createLogger("info", sink), runWorker: false });
    try {
      await fetch(`${server.base}/v1/templates`, { headers: { authorization: `Bearer ${apiKey}` } });
    } finally {
      await server.close();
    }
    const log = lines.join("");
    expect(log).toContain("/v1/templates");
    expect(log).toContain('"authorization":"[redacted]"');
    expect(log).not.toContain(apiKey);
  });
});
