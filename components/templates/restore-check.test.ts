import { describe, expect, it } from "vitest";
import { restoreCheckArgs, restoreCheckContainer, restoreCheckScript, type RestoreCheck } from "./restore-check.js";

const check: RestoreCheck = {
  hostName: "r0123456789abcdef0123456789abcdef",
  backupsDir: "/srv/backups",
  backup: "dumps/20261126T010000Z.dump",
  kind: "dump",
  database: "r0123456789abcdef0123456789abcdef",
  image: "postgres:15",
};

describe("the restore check's scratch container", () => {
  it("is named from the resource's host name, labelled with its project (a DELETE removes it), has no network and no port", () => {
    const args = restoreCheckArgs(check);
    expect(args.slice(0, 4)).toEqual(["run", "--rm", "--name", "r0123456789abcdef0123456789abcdef-restore-check"]);
    expect(restoreCheckContainer(check.hostName)).toBe("r0123456789abcdef0123456789abcdef-restore-check");
    expect(args).toContain("provisioner.project=r0123456789abcdef0123456789abcdef");
    expect(args[args.indexOf("--network") + 1]).toBe("none");
    expect(args.some((a) => /^(-p|--publish|--publish-all|-P)$/.test(a))).toBe(false);
    expect(args[args.indexOf("--user") + 1]).toBe("postgres");
    expect(args).toEqual(expect.arrayContaining(["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"]));
  });

  it("mounts only the one backup, read-only, from the resource's store", () => {
    const args = restoreCheckArgs(check);
    expect(args.filter((a) => a === "--mount" || a === "-v" || a === "--volume")).toEqual(["--mount"]);
    expect(args[args.indexOf("--mount") + 1]).toBe(
      "type=bind,source=/srv/backups/r0123456789abcdef0123456789abcdef/dumps/20261126T010000Z.dump,target=/check/backup,readonly",
    );
  });

  it("puts nothing secret on its command line or in its environment: the server trusts its own socket only", () => {
    const args = restoreCheckArgs(check);
    const env = args.flatMap((a, i) => (args[i - 1] === "--env" ? [a] : []));
    expect(env).toEqual(["CHECK_KIND=dump", `CHECK_DATABASE=${check.database}`]);
    expect(args.join(" ")).not.toMatch(/PASSWORD|PGPASSWORD/);
    expect(restoreCheckScript).toContain("listen_addresses=''");
    expect(restoreCheckScript).toContain("--auth=trust");
  });

  it.each([
    [{ backup: "../../etc/shadow" }, /not a dump backup id/],
    [{ backup: "dumps/x.dump; rm -rf /" }, /not a dump backup id/],
    [{ kind: "base" as const }, /not a base backup id/],
    [{ hostName: "../x" }, /not a host name/],
    [{ database: "a b" }, /not a database name/],
  ])("refuses %j before it reaches a path or a shell", (change, error) => {
    expect(() => restoreCheckArgs({ ...check, ...change })).toThrow(error);
  });

  it("checks a base backup by recovering it with its WAL and querying the resource's database", () => {
    const args = restoreCheckArgs({ ...check, kind: "base", backup: "base/20261126T010000Z" });
    expect(args).toContain("CHECK_KIND=base");
    expect(args[args.indexOf("--mount") + 1]).toContain("/base/20261126T010000Z,target=/check/backup,readonly");
    // Recovery refuses a max_connections below the primary's.
    expect(restoreCheckScript).toContain("max_connections=500");
  });
});
