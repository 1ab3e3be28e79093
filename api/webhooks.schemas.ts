// The shapes of /v1/webhooks (issue 12, notifications), in zod like
// resources.schemas.ts: requests are validated with them and the OpenAPI
// document (webhooks.openapi.ts) is generated from them.
import { z } from "zod";
import { notificationEvents } from "../core/notifications.js";
import { eventId } from "./resources.schemas.js";

/** How many webhooks one team may have. */
export const webhooksPerTeam = 10;

/**
 * An http(s) URL with a host name or a dotted IPv4 address, an optional port
 * and path/query: everything it matches parses as a URL (the published
 * schema is exact, so a schema-valid URL is never a 400). No user info (a
 * password would be shown by every GET), no fragment, no IPv6 literal (use a
 * name). Whether the destination may be reached is the service's policy
 * (403 `destination_refused`, api/webhook-destinations.ts).
 */
const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const port = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";
// Labels of letters and digits joined by single hyphens (so no "xn--" label, whose punycode the URL parser may refuse); the last starts with a letter.
const hostName = "([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*";
const pathChars = "[A-Za-z0-9._~!$&'()*+,;=:@%/-]";
export const webhookUrlPattern = `^https?://(${hostName}|${octet}(\\.${octet}){3})(:${port})?(/${pathChars}*)?(\\?(${pathChars}|\\?)*)?$`;

export const webhookUrl = z
  .string()
  .max(2048)
  .regex(
    new RegExp(webhookUrlPattern),
    "must be an http:// or https:// URL with a host name (letters, digits, single hyphens) or IPv4 address, no user info, no fragment",
  )
  .meta({
    description: "Where events are POSTed. Private, loopback and link-local destinations are refused unless the service allows them.",
  });

export const createWebhookBody = z.strictObject({
  url: webhookUrl,
  events: z
    .array(z.enum(notificationEvents))
    .min(1)
    .max(notificationEvents.length * 2)
    .meta({ description: "The event types to receive (a type named twice counts once)." }),
});
export type CreateWebhookBody = z.infer<typeof createWebhookBody>;

export const webhookId = z.uuid();

const timestamp = z.iso.datetime();

export const webhookView = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.enum(notificationEvents)),
  createdAt: timestamp,
});
export const webhooksView = z.object({ webhooks: z.array(webhookView) });
export const createdWebhookView = webhookView.extend({
  secret: z.string().meta({
    description: "The signing secret (Standard Webhooks, `whsec_<base64>`), shown once: verify every delivery's webhook-signature with it.",
  }),
});

export const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: eventId.optional().meta({ description: "nextBefore of the previous page: deliveries older than this id." }),
});

export const attemptView = z.object({
  attempt: z.number().int(),
  statusCode: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when none answered." }),
  error: z
    .string()
    .nullable()
    .meta({ description: "Why the attempt failed (a status other than 2xx, a timeout, a refused destination...)." }),
  durationMs: z.number().int(),
  at: timestamp,
});
export const deliveryView = z.object({
  id: z.string(),
  eventId: z.string().meta({ description: "The webhook-id header: the same at every attempt." }),
  event: z.enum(notificationEvents),
  status: z.enum(["PENDING", "DELIVERED", "FAILED"]).meta({ description: "FAILED: every attempt failed; no more will be made." }),
  attempts: z.array(attemptView),
  nextAttemptAt: timestamp.nullable().meta({ description: "When the next attempt is due (PENDING only)." }),
  createdAt: timestamp,
  finishedAt: timestamp.nullable(),
});
export const deliveriesPage = z.object({ deliveries: z.array(deliveryView), nextBefore: z.string().nullable() });
