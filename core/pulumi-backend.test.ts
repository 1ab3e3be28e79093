import crypto from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ensureStateDatabase, resolvePulumiBackend } from "./pulumi-backend.js";

describe("the Pulumi backend beside the control plane", () => {
  it("keeps only lib/pq's connection parameters, defaults sslmode to disable and never puts the password in the URL", () => {
    const backend = resolvePulumiBackend(undefined, "postgresql://svc:p%2Fss%3Aw0rd@db:5432/cp?schema=public&sslmode=require");
    expect(backend.url).toBe("postgres://svc@db:5432/cp_pulumi?sslmode=require");
    expect(backend.env).toEqual({ PGPASSWORD: "p/ss:w0rd" });
    expect(backend.postgres).toEqual({ database: "cp_pulumi", serverUrl: "postgresql://svc:p%2Fss%3Aw0rd@db:5432/?sslmode=require" });
    expect(resolvePulumiBackend(undefined, "postgresql://svc@db/cp").url).toBe("postgres://svc@db/cp_pulumi?sslmode=disable");
  });

  describe("ensureStateDatabase (real Postgres)", () => {
    const controlPlane = new URL(process.env.DATABASE_URL!);
    controlPlane.pathname = `/unit_${crypto.randomBytes(4).toString("hex")}`;
    const backend = resolvePulumiBackend(undefined, controlPlane.href);
    afterAll(async () => {
      const admin = new pg.Client({ connectionString: Object.assign(new URL(controlPlane.href), { pathname: "/postgres" }).href });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(backend.postgres!.database)} WITH (FORCE)`);
      await admin.end();
    });

    it("creates the database and the CLI's table once; two instances starting together both succeed", async () => {
      const reports = await Promise.all([ensureStateDatabase(backend), ensureStateDatabase(backend)]);
      expect(reports.filter((r) => r.created)).toHaveLength(1);
      expect(await ensureStateDatabase(backend)).toEqual({ created: false });
      const state = new pg.Client({
        connectionString: Object.assign(new URL(controlPlane.href), { pathname: `/${backend.postgres!.database}` }).href,
      });
      await state.connect();
      const { rows } = await state.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'pulumi_state' ORDER BY 1");
      await state.end();
      expect(rows.map((r: { column_name: string }) => r.column_name)).toEqual(["data", "key", "updated_at"]);
    });
  });
});
