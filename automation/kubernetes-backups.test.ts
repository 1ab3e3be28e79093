// What the copy of a Kubernetes database's store removes when the store in the
// cluster no longer has it: what the store's retention pruned, never what a
// store that lost its backups (a new claim, a wiped volume) no longer holds.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pruned } from "./kubernetes-backups.js";

const file = { size: 1, mtime: 1 };
const files = (...names: string[]) => new Map(names.map((n) => [n, file]));
const dump = (stamp: string) => [`dumps/${stamp}.dump`, `dumps/${stamp}.dump.json`];

describe("the copy of a Kubernetes store follows its retention, not its losses", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const copyDir = (bases: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-store-copy-"));
    dirs.push(dir);
    for (const [stamp, startWal] of Object.entries(bases)) {
      fs.mkdirSync(path.join(dir, "base", stamp), { recursive: true });
      fs.writeFileSync(path.join(dir, "base", stamp, "meta.json"), JSON.stringify({ kind: "base", startWal }));
    }
    return dir;
  };

  it("dumps the store pruned (it keeps its retention of newer ones) go; the state follows the store's, but for the archiver report read here", () => {
    const archiverReport = ["state/last_archived", "state/archiver_failure"];
    const local = files(
      ...dump("20260101T000000Z"),
      ...dump("20260102T000000Z"),
      ...dump("20260103T000000Z"),
      "state/last_failure",
      ...archiverReport,
    );
    const remote = files(...dump("20260102T000000Z"), ...dump("20260103T000000Z"), "state/last_success");
    expect(pruned(local, remote, 2, copyDir({})).sort()).toEqual([...dump("20260101T000000Z"), "state/last_failure"]);
  });

  it("a store with fewer backups than its retention (it lost them) takes none of the copies, nor the state", () => {
    const local = files(...dump("20260101T000000Z"), ...dump("20260102T000000Z"), "state/last_success");
    // A new claim: one dump taken since, and no state file yet.
    const remote = files(...dump("20260110T000000Z"));
    expect(pruned(local, remote, 2, copyDir({}))).toEqual([]);
  });

  it("WAL before the oldest base backup the store keeps goes once it keeps its retention of them; before that, none", () => {
    const wal = ["wal/000000010000000000000001", "wal/000000010000000000000002", "wal/000000010000000000000003"];
    const dir = copyDir({ "20260102T000000Z": "000000010000000000000002", "20260103T000000Z": "000000010000000000000003" });
    const remote = files("base/20260102T000000Z/meta.json", "base/20260103T000000Z/meta.json", wal[1]!, wal[2]!);
    expect(pruned(files(...wal), remote, 2, dir)).toEqual([wal[0]]);
    expect(pruned(files(...wal), remote, 3, dir)).toEqual([]);
  });
});
