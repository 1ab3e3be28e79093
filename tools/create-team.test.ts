// `npm run create-team` as a user runs it (the tool itself, against the test database).
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);
const createTeam = (...args: string[]) =>
  execFileAsync(process.execPath, ["--import", "tsx", "tools/create-team.ts", ...args], { env: process.env });

describe("create-team", () => {
  it("prints the new team's API key once, on its last line; a second team of that name is refused", { timeout: 30_000 }, async () => {
    const name = `cli${crypto.randomBytes(4).toString("hex")}`;
    const { stdout } = await createTeam(name, "--tier", "basic");
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe(`created team ${name} (tier basic); its API key, shown only now:`);
    expect(lines.at(-1)).toMatch(/^prov_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    await expect(createTeam(name)).rejects.toMatchObject({ code: 1, stderr: `a team named ${name} exists already\n` });
  });

  it("when the tier is unknown, then it prints the usage and exits 2", async () => {
    await expect(createTeam("x", "--tier", "gold")).rejects.toMatchObject({ code: 2 });
  });
});
