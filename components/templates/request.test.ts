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
  it("takes free ports upwards from where it starts, skipping taken ones", () => {
    expect(allocatePorts(["a", "b", "c"], new Set([19000, 19002]), { from: 19000, to: 19010 }, 19000)).toEqual({
      a: 19001,
      b: 19003,
      c: 19004,
    });
  });

  it("wraps around the end of the range", () => {
    expect(allocatePorts(["a", "b", "c"], new Set([19010]), { from: 19000, to: 19010 }, 19009)).toEqual({ a: 19009, b: 19000, c: 19001 });
  });

  it("starts at a random port: a freed port does not go straight to the next resource", () => {
    const range = { from: 19000, to: 29000 };
    const firsts = new Set(Array.from({ length: 20 }, () => allocatePorts(["a"], new Set(), range).a!));
    expect(firsts.size).toBeGreaterThan(10);
    for (const port of firsts) expect(port >= range.from && port <= range.to).toBe(true);
  });

  it("when the range is exhausted, then it says so on the ports field", () => {
    for (const start of [19000, 19001]) {
      expect(() => allocatePorts(["a", "b"], new Set([19000]), { from: 19000, to: 19001 }, start)).toThrow(
        /^ports: the port range 19000-19001/,
      );
    }
  });
});
