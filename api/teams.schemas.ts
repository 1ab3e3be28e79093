// The shapes of the API the console needs (issue 14): sign-in sessions, the
// team's quota usage, its API keys, its audit log and its team-wide event
// stream. zod, like resources.schemas.ts: requests are validated with them and
// the OpenAPI document (teams.openapi.ts) is generated from them.
import { z } from "zod";
import { eventId } from "./resources.schemas.js";

export const tiers = ["FREE", "BASIC", "PRO", "ENTERPRISE"] as const;

export const teamView = z.object({ id: z.uuid(), name: z.string(), tier: z.enum(tiers) });

export const signInBody = z.strictObject({
  apiKey: z
    .string()
    .min(1)
    .max(200)
    .meta({ description: "A team API key; exchanged for an HttpOnly session cookie, never kept by the browser." }),
});

export const sessionView = z.object({
  team: teamView,
  session: z
    .object({
      csrfToken: z.string().meta({ description: "Send it in X-CSRF-Token with every state-changing request of this session." }),
      expiresAt: z.iso.datetime(),
    })
    .nullable()
    .meta({ description: "The console session of this request's cookie; null when the request carries an API key." }),
});

const usage = z.object({ used: z.number(), limit: z.number() });
export const quotaView = z.object({
  resources: usage.meta({ description: "Live (not DELETED) resources." }),
  cpus: usage.meta({ description: "CPU limits of all their containers." }),
  memoryMb: usage.meta({ description: "Memory limits of all their containers, in MB." }),
});
export const teamDetailView = teamView.extend({ quota: quotaView });

export const apiKeyView = z.object({
  id: z.uuid(),
  prefix: z.string().meta({ description: "The key's visible part (prov_<prefix>_...): tells keys apart." }),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
  current: z.boolean().meta({ description: "The key this request authenticated with (or the session's)." }),
});
export const apiKeysView = z.object({ apiKeys: z.array(apiKeyView) });
export const createdApiKeyView = apiKeyView.extend({ apiKey: z.string().meta({ description: "The new key, shown once." }) });

export const auditActions = ["credentials.read", "api_key.create", "api_key.revoke", "webhook.create", "webhook.delete"] as const;
export const auditQuery = z.strictObject({
  action: z.enum(auditActions).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: eventId.optional().meta({ description: "nextBefore of the previous page: entries older than this id." }),
});
export const auditEntryView = z.object({
  id: z.string(),
  action: z.string(),
  resourceId: z.string().nullable(),
  resourceName: z.string().nullable(),
  apiKeyPrefix: z.string().nullable().meta({ description: "The key that acted (a session acts with its key)." }),
  createdAt: z.iso.datetime(),
});
export const auditPage = z.object({ entries: z.array(auditEntryView), nextBefore: z.string().nullable() });

export const teamEventsQuery = z.strictObject({
  after: eventId.optional().meta({ description: "Events after this id. A stream without it starts with the next event." }),
});
export const teamEventView = z.object({
  id: z.string(),
  resourceId: z.uuid(),
  resourceName: z.string(),
  status: z.string().meta({ description: "The resource's status when the event was sent." }),
  stage: z.string(),
  progress: z.number().int(),
  message: z.string(),
  createdAt: z.iso.datetime(),
});
export const teamEventsPage = z.object({ events: z.array(teamEventView) });

export const apiKeyId = z.uuid();
