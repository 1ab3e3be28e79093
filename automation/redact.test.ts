import { describe, expect, it } from "vitest";
import { Redactor } from "./redact.js";

describe("Redactor", () => {
  it("redacts known secret values wherever they appear", () => {
    const redactor = new Redactor().add(["hunter2-password", "s3cr3t-token"]);
    expect(redactor.redact("login hunter2-password, token=s3cr3t-token.")).toBe("login [redacted], token=[redacted].");
  });

  it("redacts long hex strings, the shape of every generated secret", () => {
    const secret = "a".repeat(16) + "0123456789abcdef";
    expect(new Redactor().redact(`CLUSTER_SECRET=${secret} ok`)).toBe("CLUSTER_SECRET=[redacted] ok");
  });

  it("leaves ordinary output and very short values alone", () => {
    const redactor = new Redactor().add(["abc"]);
    expect(redactor.redact("created 3 resources: abc-1 deadbeef")).toBe("created 3 resources: abc-1 deadbeef");
  });
});
