// One attempt at delivering an event to a webhook: a POST signed the Standard
// Webhooks way (https://www.standardwebhooks.com: webhook-id, webhook-timestamp,
// webhook-signature = "v1," + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"
// with the secret), by the specification's own library. A receiver verifies it
// with that library in its language, or with a few lines of HMAC (README,
// Notifications). Redirects are not followed (a 3xx is a failure: following
// one could lead anywhere), nothing of the answer is kept but its status, and
// the URL is never logged or put in an error (URLs of chat webhooks are secrets).
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";
import { DestinationRefused, guardedLookup, refusedHost } from "./webhook-destinations.js";

export interface SendSettings {
  timeoutSeconds: number;
  allowPrivateDestinations: boolean;
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** The three signature headers for `body` sent as message `id` at `at`. */
export function signatureHeaders(secret: string, id: string, body: string, at: Date): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}

/** A short reason from a network error: its code and message, never the URL. */
function reasonOf(error: unknown): string {
  if (error instanceof DestinationRefused) return error.message;
  const e = error as { code?: string; message?: string };
  return (e.code ? `${e.code}: ` : "") + (e.message ?? String(error)).slice(0, 300);
}

export async function sendWebhook(
  target: { url: string; secret: string },
  message: { id: string; body: string },
  settings: SendSettings,
): Promise<AttemptResult> {
  const started = Date.now();
  const done = (statusCode: number | null, error: string | null): AttemptResult => ({
    ok: error === null,
    statusCode,
    error,
    durationMs: Date.now() - started,
  });
  const url = new URL(target.url);
  if (!settings.allowPrivateDestinations) {
    const refused = refusedHost(url.hostname);
    // An address literal is connected to without a lookup: checked here.
    if (refused) return done(null, `destination refused: ${url.hostname} is ${refused}`);
  }
  const headers = {
    "content-type": "application/json",
    "user-agent": "provisioner-webhooks/1",
    ...signatureHeaders(target.secret, message.id, message.body, new Date()),
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    const request = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(message.body) },
        // A connection of its own each time: a pooled socket would skip the destination check.
        agent: false,
        ...(!settings.allowPrivateDestinations && { lookup: guardedLookup }),
        timeout: settings.timeoutSeconds * 1000,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The answer's body is not kept: drained so the exchange ends.
        response.resume();
        response.on("end", () => resolve(done(status, status >= 200 && status < 300 ? null : `the receiver answered HTTP ${status}`)));
        response.on("error", (error) => resolve(done(status, reasonOf(error))));
        response.on("close", () => resolve(done(status, "the connection closed before the answer ended")));
      },
    );
    // `timeout` fires on an idle socket; the whole exchange is bounded too.
    const deadline = setTimeout(
      () => request.destroy(Object.assign(new Error(`no answer within ${settings.timeoutSeconds} s`), { code: "ETIMEDOUT" })),
      settings.timeoutSeconds * 1000,
    );
    request.on("timeout", () =>
      request.destroy(Object.assign(new Error(`no answer within ${settings.timeoutSeconds} s`), { code: "ETIMEDOUT" })),
    );
    request.on("error", (error) => resolve(done(null, reasonOf(error))));
    request.on("close", () => clearTimeout(deadline));
    request.end(message.body);
  });
}
