// A team's webhooks (issue 12): created with a signing secret shown once and
// stored sealed with the credentials' keyring, listed without it, deleted with
// their delivery log. Team-scoped like resources: another team's webhook is a 404.
import crypto from "node:crypto";
import type { CredentialsCipher, SealedCredentials } from "../core/credentials-cipher.js";
import type { Database } from "../core/db.js";
import type { NotificationEvent } from "../core/notifications.js";
import type { Webhook, WebhookAttempt, WebhookDelivery } from "../prisma/generated/client.js";
import { ApiError } from "./errors.js";
import type { Actor } from "./resources.service.js";
import { refusedHost } from "./webhook-destinations.js";
import { webhooksPerTeam, type CreateWebhookBody } from "./webhooks.schemas.js";

const notFound = () => new ApiError(404, "not_found", "no such webhook in the team");

/** The cipher's authenticated data: a webhook's id, apart from any resource id. */
const sealedFor = (webhookId: string) => `webhook:${webhookId}`;

export function openSecret(cipher: CredentialsCipher, webhookId: string, sealed: SealedCredentials): string {
  return cipher.open(sealedFor(webhookId), sealed).secret!;
}

export function sealSecret(cipher: CredentialsCipher, webhookId: string, secret: string): SealedCredentials {
  return cipher.seal(sealedFor(webhookId), { secret });
}

/** Standard Webhooks' secret format: `whsec_` and 32 random bytes in base64. */
const newSecret = () => `whsec_${crypto.randomBytes(32).toString("base64")}`;

export function webhookView(webhook: Webhook) {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.eventTypes as NotificationEvent[],
    createdAt: webhook.createdAt.toISOString(),
  };
}

export function deliveryView(delivery: WebhookDelivery & { attemptLog: WebhookAttempt[] }) {
  return {
    id: delivery.id.toString(),
    eventId: delivery.eventId,
    event: delivery.eventType as NotificationEvent,
    status: delivery.status,
    attempts: delivery.attemptLog.map((a) => ({
      attempt: a.attempt,
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
      at: a.createdAt.toISOString(),
    })),
    nextAttemptAt: delivery.status === "PENDING" ? delivery.nextAttemptAt.toISOString() : null,
    createdAt: delivery.createdAt.toISOString(),
    finishedAt: delivery.finishedAt?.toISOString() ?? null,
  };
}

export class WebhookService {
  constructor(
    private readonly db: Database,
    private readonly cipher: CredentialsCipher,
    /** WEBHOOK_ALLOW_PRIVATE_DESTINATIONS. */
    private readonly allowPrivateDestinations: boolean,
  ) {}

  async create(actor: Actor, body: CreateWebhookBody) {
    const url = new URL(body.url);
    const refused = this.allowPrivateDestinations ? undefined : refusedHost(url.hostname);
    if (refused)
      throw new ApiError(
        403,
        "destination_refused",
        `webhooks may not reach ${refused} on this service (WEBHOOK_ALLOW_PRIVATE_DESTINATIONS)`,
        [{ field: "url", message: `is ${refused}` }],
      );
    const id = crypto.randomUUID();
    const secret = newSecret();
    const sealed = sealSecret(this.cipher, id, secret);
    const webhook = await this.db.$transaction(async (tx) => {
      // Serializes the team's creates, so two cannot both take the last slot.
      await tx.$executeRaw`SELECT id FROM teams WHERE id = ${actor.team.id}::uuid FOR UPDATE`;
      if ((await tx.webhook.count({ where: { teamId: actor.team.id } })) >= webhooksPerTeam)
        throw new ApiError(409, "too_many_webhooks", `a team may have at most ${webhooksPerTeam} webhooks: delete one first`);
      const created = await tx.webhook.create({
        data: {
          id,
          teamId: actor.team.id,
          url: body.url,
          eventTypes: [...new Set(body.events)],
          secretCiphertext: Buffer.from(sealed.ciphertext),
          secretKeyId: sealed.keyId,
        },
      });
      await tx.auditLog.create({
        data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, action: "webhook.create", detail: { webhookId: id } },
      });
      return created;
    });
    return { ...webhookView(webhook), secret };
  }

  async list(actor: Actor) {
    const webhooks = await this.db.webhook.findMany({ where: { teamId: actor.team.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    return webhooks.map(webhookView);
  }

  async get(actor: Actor, id: string) {
    return webhookView(await this.find(actor, id));
  }

  /** Deletes the webhook and its delivery log; what was queued for it is not sent. */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const { count } = await tx.webhook.deleteMany({ where: { id, teamId: actor.team.id } });
      if (count === 0) throw notFound();
      await tx.auditLog.create({
        data: { teamId: actor.team.id, apiKeyId: actor.apiKeyId, action: "webhook.delete", detail: { webhookId: id } },
      });
    });
  }

  /** The delivery log, newest first, each delivery with its attempts. */
  async deliveries(actor: Actor, id: string, query: { limit: number; before?: string }) {
    const webhook = await this.find(actor, id);
    const rows = await this.db.webhookDelivery.findMany({
      where: { webhookId: webhook.id, ...(query.before && { id: { lt: BigInt(query.before) } }) },
      orderBy: { id: "desc" },
      take: query.limit + 1,
      include: { attemptLog: { orderBy: { attempt: "asc" } } },
    });
    const page = rows.slice(0, query.limit);
    return { deliveries: page.map(deliveryView), nextBefore: rows.length > query.limit ? page.at(-1)!.id.toString() : null };
  }

  private async find(actor: Actor, id: string): Promise<Webhook> {
    const webhook = await this.db.webhook.findFirst({ where: { id, teamId: actor.team.id } });
    if (!webhook) throw notFound();
    return webhook;
  }
}
