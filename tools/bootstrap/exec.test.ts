import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runLogged } from "./exec.js";
import { BootstrapError } from "./log.js";

describe("runLogged", () => {
  it("when the command fails, then the error names the step and the log holding its output", async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "runlogged-")), "build.log");
    const failing = runLogged("sh", ["-c", "echo compiling; echo 'undefined: fastrand64' >&2; exit 3"], log, { step: "Building Kubo" });
    await expect(failing).rejects.toThrow(BootstrapError);
    await expect(failing).rejects.toMatchObject({ message: "Building Kubo failed (exit 3).", hint: `See the log: ${log}` });
    expect(fs.readFileSync(log, "utf8")).toContain("undefined: fastrand64");
  });
});
