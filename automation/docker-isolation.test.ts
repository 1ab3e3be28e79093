import { describe, expect, it } from "vitest";
import { turnsIptablesOff } from "./docker-isolation.js";

describe("turnsIptablesOff", () => {
  it.each([
    [["dockerd", "--iptables=false"], true],
    [["dockerd", "--iptables", "false"], true],
    [["dockerd", "--storage-driver=vfs", "--iptables=false"], true],
    [["dockerd"], false],
    [["dockerd", "--iptables=true"], false],
    [["dockerd", "--ip6tables=false"], false],
  ])("%j → %s", (args, off) => {
    expect(turnsIptablesOff(args)).toBe(off);
  });
});
