// The pure parts of delivering: the signature as any receiver checks it (plain
// HMAC, as the README's example does, not only the library that made it), the
// retry schedule, and which addresses a webhook may reach.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "./webhook-delivery.js";
import { refusedHost, refusedRange } from "./webhook-destinations.js";
import { signatureHeaders } from "./webhook-sender.js";

/** The README's verification (the same lines, typed). */
function verify(secret: string, headers: Record<string, string>, body: string) {
  const id = headers["webhook-id"]!;
  const timestamp = headers["webhook-timestamp"]!;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error("timestamp too far from now");
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = crypto.createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  const valid = headers["webhook-signature"]!.split(" ").some((signature) => {
    const [version, value] = signature.split(",");
    return version === "v1" && value?.length === expected.length && crypto.timingSafeEqual(Buffer.from(value), Buffer.from(expected));
  });
  if (!valid) throw new Error("invalid signature");
  return JSON.parse(body) as unknown;
}

describe("signatureHeaders (Standard Webhooks)", () => {
  const secret = `whsec_${crypto.randomBytes(32).toString("base64")}`;
  const body = JSON.stringify({ type: "resource.failed", timestamp: new Date().toISOString(), data: { reason: "x" } });

  it("verifies with a plain HMAC-SHA256 over id.timestamp.body", () => {
    const headers = signatureHeaders(secret, "msg_1", body, new Date());
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verify(secret, headers, body)).toEqual(JSON.parse(body));
  });

  it("another secret, another body, another id or a stale timestamp does not verify", () => {
    const headers = signatureHeaders(secret, "msg_1", body, new Date());
    expect(() => verify(`whsec_${crypto.randomBytes(32).toString("base64")}`, headers, body)).toThrow("invalid signature");
    expect(() => verify(secret, headers, body.replace("x", "y"))).toThrow("invalid signature");
    expect(() => verify(secret, { ...headers, "webhook-id": "msg_2" }, body)).toThrow("invalid signature");
    const old = signatureHeaders(secret, "msg_1", body, new Date(Date.now() - 600_000));
    expect(() => verify(secret, old, body)).toThrow("timestamp too far from now");
  });
});

describe("retryDelaySeconds", () => {
  // [attempt, base, random, seconds]
  const cases: [number, number, number, number][] = [
    [1, 30, 0.5, 30],
    [2, 30, 0.5, 60],
    [5, 30, 0.5, 480],
    [8, 30, 0.5, 3600],
    [20, 30, 0.5, 3600],
    [1, 30, 0, 24],
    [1, 30, 1, 36],
  ];
  it.each(cases)("after attempt %i (base %i s, jitter %d): %d s", (attempt, base, random, seconds) => {
    expect(retryDelaySeconds(attempt, base, random)).toBeCloseTo(seconds, 6);
  });
});

describe("destinations", () => {
  // [address, refused range or undefined]
  const cases: [string, string | undefined][] = [
    ["93.184.215.14", undefined],
    ["2606:4700:4700::1111", undefined],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "loopback"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["::1", "loopback"],
    ["fe80::1", "linkLocal"],
    ["fd00::1", "uniqueLocal"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["64:ff9b::a00:1", "rfc6052"],
  ];
  it.each(cases)("%s: %s", (address, range) => {
    expect(refusedRange(address)).toBe(range);
  });

  it("names known without resolving: localhost and address literals", () => {
    expect(refusedHost("localhost")).toBe("a loopback name");
    expect(refusedHost("api.localhost")).toBe("a loopback name");
    expect(refusedHost("[::1]")).toBe("a loopback address");
    expect(refusedHost("10.1.2.3")).toBe("a private address");
    expect(refusedHost("hooks.example.com")).toBeUndefined();
  });
});
