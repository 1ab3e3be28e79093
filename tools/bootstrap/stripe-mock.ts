// stripe-mock (Stripe's own API mock: every request is validated against
// Stripe's OpenAPI spec, embedded in it) for the billing tests
// (api/usage-reporter.test.ts): built once from the Go module proxy into the
// cache (about 15 s), then reused. v0.203.0, the newest the proxy serves,
// routes POST /v1/billing/meter_events (checked by that test).
import path from "node:path";
import { goBuild } from "./go.js";
import { say } from "./log.js";

export const stripeMockVersion = "v0.203.0";

/** The stripe-mock binary, building it on first use. */
export async function ensureStripeMock(): Promise<string> {
  const dir = await goBuild({
    name: "stripe-mock",
    module: "stripe-mock",
    binaries: { "stripe-mock": "github.com/stripe/stripe-mock" },
    label: `Building stripe-mock ${stripeMockVersion}`,
  });
  const binary = path.join(dir, "stripe-mock");
  say(`stripe-mock: using ${stripeMockVersion} (${binary})`);
  return binary;
}
