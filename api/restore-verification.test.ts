import { describe, expect, it } from "vitest";
import type { StoredBackup } from "../core/backup-store.js";
import { candidates, isDue, restoreVerificationJob } from "./restore-verification.js";

const dump = (stamp: string, verified = true): StoredBackup => ({
  id: `dumps/${stamp}.dump`,
  kind: "dump",
  takenAt: `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:00:00Z`,
  sizeBytes: 1,
  verified,
});
const base = (stamp: string): StoredBackup => ({ ...dump(stamp), id: `base/${stamp}`, kind: "base" });
const hour = 3_600_000;
const now = new Date("2026-11-26T12:00:00Z");
const ran = (backup: string, ok: boolean, hoursAgo: number) => ({
  backup,
  kind: backup.startsWith("base/") ? "base" : "dump",
  ok,
  message: ok ? "restored" : "pg_restore: error",
  finishedAt: new Date(now.getTime() - hoursAgo * hour),
});

describe("restore verification: what is verified, and when", () => {
  it("verifies the newest verified backup of each kind", () => {
    const backups = [dump("20261126T100000Z"), dump("20261126T110000Z", false), dump("20261126T090000Z"), base("20261126T080000Z")];
    expect(candidates(backups).map((b) => b.id)).toEqual(["dumps/20261126T100000Z.dump", "base/20261126T080000Z"]);
  });

  it.each([
    ["never verified", [], [dump("20261126T100000Z")], true],
    ["verified an interval ago", [ran("dumps/20261126T100000Z.dump", true, 24)], [dump("20261126T100000Z")], true],
    ["verified within the interval", [ran("dumps/20261126T100000Z.dump", true, 1)], [dump("20261126T110000Z")], false],
    ["failed, no newer backup yet", [ran("dumps/20261126T100000Z.dump", false, 1)], [dump("20261126T100000Z")], false],
    ["failed, a newer backup to try", [ran("dumps/20261126T100000Z.dump", false, 1)], [dump("20261126T110000Z")], true],
    [
      "a first base backup beside a verified dump",
      [ran("dumps/20261126T100000Z.dump", true, 1)],
      [dump("20261126T100000Z"), base("20261126T110000Z")],
      true,
    ],
  ])("%s: due %s", (_, history, backups, due) => {
    expect(isDue(history, backups, 24 * hour, now)).toBe(due);
  });

  it("one job per Docker host, within the jobs table's 63 characters", () => {
    expect(restoreVerificationJob("local")).toBe("restore-verification:local");
    expect(restoreVerificationJob("h".repeat(63)).length).toBeLessThanOrEqual(63);
    expect(restoreVerificationJob("h".repeat(63))).not.toBe(restoreVerificationJob(`${"h".repeat(62)}i`));
  });
});
