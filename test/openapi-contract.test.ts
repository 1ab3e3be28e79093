// The published contract holds: Schemathesis (from PyPI, installed by the
// bootstrap in test mode) generates requests from GET /v1/openapi.json, valid
// and invalid, and runs every check against the in-process service with a
// team key: status codes, response bodies and headers as documented, valid
// data accepted, invalid data rejected, 405 for undocumented methods.
// Few examples per operation: enough to catch the document drifting.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../core/db.js";
import { TeamService } from "../api/teams.service.js";
import { discardUnfinishedOperations } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

const schemathesis = process.env.PROVISIONER_SCHEMATHESIS;

describe("the OpenAPI document (Schemathesis)", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  let server: TestServer;
  let apiKey: string;
  let teamId: string;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-schemathesis-"));

  beforeAll(async () => {
    // No worker: accepted operations stay queued, nothing is deployed.
    // With a scrape token, /metrics answers as documented for a caller without it (401), not as switched off (404).
    server = await startTestServer({ PROVISIONER_SCRAPE_TOKEN: crypto.randomBytes(16).toString("hex") }, { runWorker: false });
    const created = await new TeamService(db).create(`st${crypto.randomBytes(4).toString("hex")}`, "ENTERPRISE");
    ({ apiKey } = created);
    teamId = created.team.id;
  });
  afterAll(async () => {
    // What Schemathesis queued must not run in a later file's worker (automation/operation-worker.test.ts claims any queued operation).
    if (teamId) await discardUnfinishedOperations(db, { teamIds: [teamId] });
    await server?.close();
    await db.$disconnect();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("reports no failure of any check with a team key", async () => {
    expect(schemathesis, "PROVISIONER_SCHEMATHESIS: run through `npm test`, which installs Schemathesis").toBeTruthy();
    // use_after_free expects a GET after a successful DELETE to be a 404; here DELETE is asynchronous
    // (202) and the resource stays readable, DELETING then DELETED with its events, as documented.
    const args = [
      "run",
      `${server.base}/v1/openapi.json`,
      ...["--checks", "all", "--exclude-checks", "use_after_free"],
      ...["--max-examples", process.env.PROVISIONER_SCHEMATHESIS_EXAMPLES ?? "8", "--workers", "1"],
      ...["-H", `Authorization: Bearer ${apiKey}`, "--no-color"],
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      // In a scratch folder: Schemathesis keeps a cache of past failures in its working directory, replayed by the next run.
      execFile(
        schemathesis!,
        args,
        { cwd: scratch, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: "" } },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    expect(code, output.replaceAll(apiKey, "<key>")).toBe(0);
  }, 300_000);
});
