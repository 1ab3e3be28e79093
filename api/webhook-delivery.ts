// Delivers the outbox (webhook_deliveries, filled by core/notifications.ts):
// a job of the scheduler, so one round runs at a time across every service
// instance. A round claims what is due (pushing its next attempt past the
// round, so even a round taken over by another instance never sends a
// delivery twice at once), sends it, and logs each attempt. A failure is
// retried with exponential backoff (WEBHOOK_RETRY_BASE_SECONDS doubled each
// time, capped at an hour, ±20 % jitter) until WEBHOOK_MAX_ATTEMPTS, then the
// delivery is FAILED. A failing webhook is its own matter: its attempts, the
// metrics and a warning say so; no resource or operation ever hears of it.
import type { Logger } from "pino";
import { MissingKeyError, type CredentialsCipher } from "../core/credentials-cipher.js";
import { webhookRetryCapSeconds, type WebhookSettings } from "../core/config.js";
import type { Database } from "../core/db.js";
import type { ScheduledJob, Scheduler } from "../core/scheduler.js";
import type { Metrics } from "./metrics.js";
import { sendWebhook, type AttemptResult } from "./webhook-sender.js";
import { openSecret } from "./webhooks.service.js";

/** The delivery rounds' row in the jobs table. */
export const deliveryJob = "webhook-deliveries";

/** At most this many deliveries per round, this many at once, and this many of one webhook (a slow receiver cannot hold up the others). */
const perRound = 32;
const concurrency = 8;
const perWebhook = 4;
/** Finished deliveries are kept this long in the log. */
const keepDays = 30;

interface Due {
  id: bigint;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  attempts: number;
  url: string;
  secret_ciphertext: Uint8Array<ArrayBuffer>;
  secret_key_id: string;
}

export interface WebhookDelivererDeps {
  db: Database;
  cipher: CredentialsCipher;
  metrics: Metrics;
  logger: Logger;
  settings: WebhookSettings;
  scheduler: Scheduler;
  /** How one attempt is made; default: the signed POST. */
  send?: typeof sendWebhook;
}

/** The wait after failed attempt `attempt` (1-based): base × 2^(attempt-1), capped, with ±20 % jitter. */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random = Math.random()): number {
  const plain = Math.min(webhookRetryCapSeconds, baseSeconds * 2 ** (attempt - 1));
  return plain * (0.8 + 0.4 * random);
}

export class WebhookDeliverer {
  private job?: ScheduledJob;
  private prunedAt = 0;

  constructor(private readonly deps: WebhookDelivererDeps) {}

  start(): void {
    const { intervalSeconds, timeoutSeconds } = this.deps.settings;
    if (intervalSeconds <= 0) return;
    // A round sends perRound / concurrency waves of at most a timeout each; its claim outlasts that.
    const claimSeconds = Math.ceil(perRound / concurrency) * (timeoutSeconds + 5) + 30;
    this.job ??= this.deps.scheduler.every(deliveryJob, { intervalSeconds, claimSeconds }, () => this.round().then(() => undefined));
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job?.stop();
  }

  /** One round: what is due, sent; returns how many attempts were made. */
  async round(): Promise<number> {
    const due = await this.claimDue();
    let next = 0;
    const worker = async () => {
      while (next < due.length) await this.attempt(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    await this.prune();
    return due.length;
  }

  /** Due deliveries, oldest first, a few per webhook; each is held past this round and counted as an attempt. */
  private async claimDue(): Promise<Due[]> {
    const holdSeconds = Math.ceil(perRound / concurrency) * (this.deps.settings.timeoutSeconds + 5) + 30;
    return this.deps.db.$queryRaw<Due[]>`
      WITH due AS (
        SELECT id FROM (
          SELECT id, next_attempt_at, row_number() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS nth
          FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= now()
        ) ranked
        WHERE nth <= ${perWebhook}
        ORDER BY next_attempt_at, id
        LIMIT ${perRound}
      )
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => ${holdSeconds}::double precision)
      FROM due, webhooks w
      WHERE d.id = due.id AND w.id = d.webhook_id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
      RETURNING d.id, d.webhook_id::text, d.event_id, d.event_type, d.body, d.attempts, w.url, w.secret_ciphertext, w.secret_key_id`;
  }

  private async attempt(due: Due): Promise<void> {
    const { cipher, settings, logger, metrics } = this.deps;
    let result: AttemptResult;
    try {
      const secret = openSecret(cipher, due.webhook_id, { keyId: due.secret_key_id, ciphertext: due.secret_ciphertext });
      result = await (this.deps.send ?? sendWebhook)({ url: due.url, secret }, { id: due.event_id, body: due.body }, settings);
    } catch (error) {
      // A secret sealed with a key no longer configured: nothing can be signed until the key is back.
      const reason =
        error instanceof MissingKeyError
          ? `the webhook's secret is sealed with key ${error.keyId}, which is not in PROVISIONER_CREDENTIALS_KEYS`
          : "internal error while sending";
      if (!(error instanceof MissingKeyError)) logger.error({ err: error, deliveryId: due.id.toString() }, "webhook attempt failed to run");
      result = { ok: false, statusCode: null, error: reason, durationMs: 0 };
    }
    const final = result.ok || due.attempts >= settings.maxAttempts;
    const status = result.ok ? "DELIVERED" : final ? "FAILED" : "PENDING";
    const nextAttemptAt = final ? undefined : new Date(Date.now() + retryDelaySeconds(due.attempts, settings.retryBaseSeconds) * 1000);
    await this.deps.db.$transaction(async (tx) => {
      // The webhook may have been deleted meanwhile (its deliveries with it): nothing to record then.
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: due.id, status: "PENDING" },
        data: { status, ...(nextAttemptAt && { nextAttemptAt }), ...(final && { finishedAt: new Date() }) },
      });
      if (count === 0) return;
      await tx.webhookAttempt.create({
        data: {
          deliveryId: due.id,
          attempt: due.attempts,
          statusCode: result.statusCode,
          error: result.error,
          durationMs: Math.round(result.durationMs),
        },
      });
    });
    metrics.webhookAttempted(due.event_type, result.ok, final);
    if (!result.ok)
      logger.warn(
        {
          webhookId: due.webhook_id,
          deliveryId: due.id.toString(),
          event: due.event_type,
          attempt: due.attempts,
          error: result.error,
          final,
        },
        final ? "webhook delivery failed; giving up" : "webhook delivery failed; will retry",
      );
  }

  /** The log keeps finished deliveries `keepDays`; pruned at most hourly. */
  private async prune(): Promise<void> {
    if (Date.now() - this.prunedAt < 3_600_000) return;
    this.prunedAt = Date.now();
    await this.deps.db.$executeRaw`
      DELETE FROM webhook_deliveries WHERE status <> 'PENDING' AND finished_at < now() - make_interval(days => ${keepDays})`;
  }
}
