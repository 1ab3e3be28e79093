import { describe, expect, it } from "vitest";
import { describeError } from "./operation-errors.js";

describe("describeError", () => {
  it("keeps the engine's diagnostics and drops its command line and progress rows", () => {
    const error = new Error(
      [
        "stderr: Command failed with exit code 1: pulumi up --yes --stack qa-x --non-interactive",
        "+  command:local:Command x-deploy **creating failed** error: create command failed: exit status 1",
        "error: update failed",
        "ERROR: for x-ipfs  Cannot start service ipfs: Bind for 127.0.0.1:19001 failed: port is already allocated",
        "create failed: removing what it started",
        "err?: Error: Command failed with exit code 1: pulumi up",
      ].join("\n"),
    );
    expect(describeError(error, [])).toBe(
      [
        "error: update failed",
        "ERROR: for x-ipfs  Cannot start service ipfs: Bind for 127.0.0.1:19001 failed: port is already allocated",
        "create failed: removing what it started",
      ].join("\n"),
    );
  });

  it("falls back to the message when nothing looks like a diagnostic", () => {
    expect(describeError(new Error("stack not found"), [])).toBe("stack not found");
  });
});
