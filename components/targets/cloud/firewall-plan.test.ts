import { describe, expect, it } from "vitest";
import { checkCidr, firewallPlan } from "./firewall-plan.js";

describe("firewallPlan", () => {
  it("opens SSH to the SSH sources and each published port to the public sources, in port order", () => {
    expect(
      firewallPlan({ ports: { gateway: 19011, api: 19010 }, publicCidrs: ["0.0.0.0/0", "::/0"], sshCidrs: ["203.0.113.0/24"] }),
    ).toEqual([
      { protocol: "tcp", port: 22, sources: ["203.0.113.0/24"], description: "ssh" },
      { protocol: "tcp", port: 19010, sources: ["0.0.0.0/0", "::/0"], description: "api" },
      { protocol: "tcp", port: 19011, sources: ["0.0.0.0/0", "::/0"], description: "gateway" },
    ]);
  });

  it.each([
    [{ ports: { api: 22 }, publicCidrs: ["0.0.0.0/0"], sshCidrs: ["10.0.0.0/8"] }, "ports.api: must not be the SSH port 22"],
    [{ ports: {}, publicCidrs: ["0.0.0.0/0"], sshCidrs: [] }, "sshCidrs: must be a non-empty list of CIDR blocks"],
    [{ ports: {}, publicCidrs: ["0.0.0.0/0"], sshCidrs: ["10.0.0.1"] }, "sshCidrs[0]: must be a CIDR block, e.g. 203.0.113.0/24"],
    [{ ports: {}, publicCidrs: ["10.0.0.0/33"], sshCidrs: ["10.0.0.0/8"] }, "publicCidrs[0]: must be a CIDR block, e.g. 203.0.113.0/24"],
  ])("rejects %j", (input, message) => {
    expect(() => firewallPlan(input)).toThrow(message);
  });
});

describe("checkCidr", () => {
  it.each(["0.0.0.0/0", "203.0.113.7/32", "::/0", "2001:db8::/32"])("accepts %s", (cidr) => expect(checkCidr("f", cidr)).toBe(cidr));
  it.each(["", "10.0.0.0", "10.0.0.0/", "10.0.0.0/8/8", "300.0.0.0/8", "2001:db8::/129", "x/8", 5])("rejects %j", (cidr) => {
    expect(() => checkCidr("f", cidr)).toThrow(/^f: must be a CIDR block/);
  });
});
