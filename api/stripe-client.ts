// The one place the Stripe client is made (issue 15): the official `stripe`
// package with a pinned API version, retries on network errors and 5xx (the
// client reuses the request's Idempotency-Key on each retry), and
// STRIPE_API_BASE for stripe-mock.
import Stripe from "stripe";
import type { BillingSettings } from "../core/config.js";

/** The API version this code was written against (the one stripe@23.1.0 ships with). */
export const stripeApiVersion = "2026-10-28.endive";

/** undefined without STRIPE_API_KEY: billing is off. */
export function stripeClient(settings: BillingSettings): Stripe | undefined {
  if (!settings.stripeApiKey) return undefined;
  const base = settings.stripeApiBase ? new URL(settings.stripeApiBase) : undefined;
  return new Stripe(settings.stripeApiKey, {
    apiVersion: stripeApiVersion,
    maxNetworkRetries: 3,
    timeout: 20_000,
    telemetry: false,
    ...(base && {
      host: base.hostname,
      port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
      protocol: base.protocol === "https:" ? "https" : "http",
    }),
  });
}
