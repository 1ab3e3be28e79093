// postgres-medium for real: streaming replica and point-in-time recovery.
import { execSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testDeployment } from "./deployment.js";
import { docker, eventually } from "./docker.js";
import { hardeningTests } from "./hardening.js";
import { deployForSuite } from "./suite.js";
import { psql } from "./postgres-client.js";
import { runRestoreCheck } from "../automation/restore-check.js";
import { databaseNames } from "../components/templates/postgres.js";

describe("postgres-medium on the local Docker host", () => {
  const suite = deployForSuite({ template: "postgres-medium", name: `ledger${process.pid}`, team: "qa", size: "small" });
  const store = () => path.join(suite.deployment.workDir, "backups", suite.deployment.project);
  const primary = (sql: string) => psql(suite.endpoint, suite.credentials, sql);
  const replica = (sql: string) => psql(suite.endpoint, suite.credentials, sql, { port: suite.endpoint.replicaPort });

  // Each test writes a table of its own: none relies on another having run.
  // (How fast the replica catches up is measured in bench/, not asserted here.)
  it("shows a row written on the primary on the replica", { timeout: 120_000 }, async () => {
    await primary("CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, 'ada');");
    const owner = await eventually(
      async () => (await replica("SELECT owner FROM accounts WHERE id = 1").catch(() => "")) || undefined,
      90_000,
      "the row on the replica",
    );
    expect(owner).toBe("ada");
  });

  it("refuses writes on the replica", async () => {
    await expect(replica("CREATE TABLE on_replica (id int)")).rejects.toThrow(/read-only transaction/);
  });

  it("took a verified base backup at create and archives WAL into the store", () => {
    const base = fs.readdirSync(path.join(store(), "base")).filter((d) => /Z$/.test(d));
    expect(base.length).toBeGreaterThan(0);
    const meta = JSON.parse(fs.readFileSync(path.join(store(), "base", base[0]!, "meta.json"), "utf8")) as Record<string, unknown>;
    expect(meta).toMatchObject({ kind: "base", verified: true });
    expect(meta.startWal).toMatch(/^[0-9A-F]{24}$/);
  });

  it(
    "the restore verification's check reads the newest base backup (recovered with its WAL) and dump back in a scratch container, removed after",
    { timeout: 300_000 },
    async () => {
      await primary("CREATE TABLE ledger (id int PRIMARY KEY, amount int); INSERT INTO ledger SELECT g, g FROM generate_series(1, 500) g;");
      // A dump and a base backup with the table (backup.sh once takes both on postgres-medium).
      await docker("exec", `${suite.deployment.project}-backup`, "sh", "/etc/provisioner/backup.sh", "once");
      const newest = (kind: string) =>
        fs
          .readdirSync(path.join(store(), kind))
          .filter((f) => /^\d{8}T\d{6}Z(\.dump)?$/.test(f))
          .sort()
          .at(-1)!;
      const image = await docker("inspect", "-f", "{{.Config.Image}}", `${suite.deployment.project}-postgres`);
      const check = {
        hostName: suite.deployment.project,
        backupsDir: path.join(suite.deployment.workDir, "backups"),
        database: databaseNames(suite.deployment.project).database,
        image,
      };
      for (const [kind, backup] of [
        ["base", `base/${newest("base")}`],
        ["dump", `dumps/${newest("dumps")}`],
      ] as const) {
        const result = await runRestoreCheck({ ...check, kind, backup });
        expect(result, `${kind}: ${result.message}`).toMatchObject({ ok: true });
        expect(result.tables).toBeGreaterThanOrEqual(1);
        expect(result.rows).toBeGreaterThanOrEqual(500);
      }
      expect(await docker("ps", "-aq", "--filter", `name=${suite.deployment.project}-restore-check`)).toBe("");
    },
  );

  it(
    "restores a point in time before a deletion into a new database, from a dump too, the source untouched; a destroy leaves a final dump",
    { timeout: 600_000 },
    async () => {
      await primary("CREATE TABLE members (id int PRIMARY KEY, owner text); INSERT INTO members VALUES (3, 'grace');");
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const beforeDeletion = await primary(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await primary("DELETE FROM members WHERE id = 3");
      // Close the WAL segment holding the deletion, so it is archived now rather than at archive_timeout.
      // (As the server's superuser, inside the container: the resource's role is not one.)
      await docker("exec", "-u", "postgres", `${suite.deployment.project}-postgres`, "psql", "-Atc", "SELECT pg_switch_wal()");
      await eventually(
        async () => (fs.existsSync(path.join(store(), "state", "last_archived")) ? true : undefined),
        60_000,
        "the archiver's report",
      );

      const backupsDir = path.join(suite.deployment.workDir, "backups");
      const restoreInto = async (name: string, restoreFrom: { hostName: string; backup?: string; pointInTime?: string }) => {
        const copy = await testDeployment(
          { template: "postgres-small", name, team: "qa", restoreFrom },
          { target: { projectsDir: path.join(suite.deployment.workDir, "projects"), backupsDir, healthTimeoutSeconds: 300 } },
        );
        try {
          const { endpoint, credentials } = await copy.up().catch(async (error: unknown) => {
            const logs = (() => {
              try {
                return execSync(`docker logs --tail 30 ${copy.project}-postgres 2>&1`).toString();
              } catch {
                return "";
              }
            })();
            throw new Error(`restore failed: ${logs}`, { cause: error });
          });
          return {
            project: copy.project,
            rows: await psql(endpoint, credentials, "SELECT coalesce(string_agg(owner, ','), '(none)') FROM members"),
          };
        } finally {
          await copy.destroy();
        }
      };
      const pitr = await restoreInto(`pitr${process.pid}`, { hostName: suite.deployment.project, pointInTime: beforeDeletion });
      expect(pitr.rows).toBe("grace");
      // The source is untouched.
      expect(await primary("SELECT count(*) FROM members")).toBe("0");

      await primary("INSERT INTO members VALUES (4, 'ada')");
      const written = await docker("exec", `${suite.deployment.project}-backup`, "sh", "/etc/provisioner/backup.sh", "once");
      const dump = written.match(/backup written: \/backups\/(\S+)/)![1]!;
      const fromDump = await restoreInto(`dump${process.pid}`, { hostName: suite.deployment.project, backup: dump });
      expect(fromDump.rows).toBe("ada");

      // The copy was destroyed: its store stays, with a final dump, from which a third database comes back.
      const finals = fs.readdirSync(path.join(backupsDir, fromDump.project, "dumps")).filter((f) => f.endsWith(".dump.json"));
      const final = finals
        .map(
          (f) =>
            JSON.parse(fs.readFileSync(path.join(backupsDir, fromDump.project, "dumps", f), "utf8")) as { file: string; reason: string },
        )
        .find((m) => m.reason === "final");
      expect(final).toBeDefined();
      const third = await restoreInto(`final${process.pid}`, { hostName: fromDump.project, backup: final!.file });
      expect(third.rows).toBe("ada");
    },
  );

  it("refuses COPY ... TO PROGRAM to the resource's role on the replica too", async () => {
    await expect(replica("COPY (SELECT 1) TO PROGRAM 'true'")).rejects.toThrow(
      /permission denied|must be superuser|pg_execute_server_program|read-only/,
    );
    expect(await replica("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).toBe("f");
  });

  hardeningTests(suite);
});
