// Offline migrations against the real control-plane Postgres, in a scratch database.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, readMigrations } from "./migrations.js";

const serverUrl = new URL(process.env.DATABASE_URL!);
const scratch = `migrations_test_${crypto.randomBytes(4).toString("hex")}`;
const scratchUrl = Object.assign(new URL(serverUrl), { pathname: `/${scratch}` }).toString();

async function admin<T>(
  work: (client: pg.Client) => Promise<T>,
  url = Object.assign(new URL(serverUrl), { pathname: "/postgres" }).toString(),
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe("applyMigrations", () => {
  beforeAll(() => admin((c) => c.query(`CREATE DATABASE ${scratch}`)));
  afterAll(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`)));

  it("applies every migration once, recording them as prisma migrate deploy does", async () => {
    const migrations = readMigrations();
    expect(await applyMigrations(scratchUrl)).toEqual(migrations.map((m) => m.name));
    expect(await applyMigrations(scratchUrl)).toEqual([]);

    interface BookkeepingRow {
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }
    const rows = await admin(
      (c) =>
        c.query<BookkeepingRow>(
          'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
        ),
      scratchUrl,
    );
    expect(rows.rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [i, row] of rows.rows.entries()) {
      const sql = fs.readFileSync(path.join("prisma", "migrations", migrations[i]!.name, "migration.sql"));
      expect(row.checksum).toBe(crypto.createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await admin(
      (c) => c.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"),
      scratchUrl,
    );
    expect(tables.rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(["teams", "resources"]));
  });

  it("when a migration fails, then nothing of it remains and the error names it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
    try {
      const bad = path.join(dir, "29990101000000_broken");
      fs.mkdirSync(bad);
      fs.writeFileSync(path.join(bad, "migration.sql"), 'CREATE TABLE "half_done" (id int);\nSELECT * FROM no_such_table;');
      await expect(applyMigrations(scratchUrl, [...readMigrations(), ...readMigrations(dir)])).rejects.toThrow(
        /29990101000000_broken failed/,
      );
      const leftovers = await admin(
        async (c) => ({
          table: (await c.query<{ t: string | null }>("SELECT to_regclass('public.half_done') AS t")).rows[0]!.t,
          row: (
            await c.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`,
            )
          ).rows[0]!.n,
        }),
        scratchUrl,
      );
      expect(leftovers).toEqual({ table: null, row: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
