import { describe, expect, it } from "vitest";
import { allocatePorts, checkDnsLabel, TemplateInputError } from "./request.js";

describe("checkDnsLabel", () => {
  it.each(["a", "web-1", "x".repeat(63)])("accepts %s", (name) => {
    expect(checkDnsLabel("name", name)).toBe(name);
  });

  it.each([
    ["spaces", "my db"],
    ["path traversal", "../etc"],
    ["shell metacharacters", "a;rm -rf /"],
    ["uppercase", "Web"],
    ["a leading digit", "1web"],
    ["a trailing dash", "web-"],
    ["200 characters", "a".repeat(200)],
    ["an empty string", ""],
    ["a number", 42],
  ])("when the name has %s, then it is refused naming the field", (_, name) => {
    expect(() => checkDnsLabel("name", name)).toThrow(TemplateInputError);
    expect(() => checkDnsLabel("name", name)).toThrow(/^name: /);
  });
});

describe("allocatePorts", () => {
  it("takes the lowest free ports of the range, skipping taken ones", () => {
    expect(allocatePorts(["a", "b", "c"], new Set([19000, 19002]), { from: 19000, to: 19010 })).toEqual({ a: 19001, b: 19003, c: 19004 });
  });

  it("when the range is exhausted, then it says so on the ports field", () => {
    expect(() => allocatePorts(["a", "b"], new Set([19000]), { from: 19000, to: 19001 })).toThrow(/^ports: the port range 19000-19001/);
  });
});
