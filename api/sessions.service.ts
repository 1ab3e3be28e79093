// Console sessions (issue 14): an API key is exchanged once for a random
// token the browser keeps in an HttpOnly cookie; the key itself never stays in
// the browser. The database keeps the token's SHA-256 only. Every request of a
// session reads its row and its key's revocation (no cache), so revoking the
// key ends the session at once, on every instance.
import crypto from "node:crypto";
import type { Database } from "../core/db.js";
import type { Team } from "../prisma/generated/client.js";
import type { TeamService } from "./teams.service.js";

export const sessionCookie = "provisioner_session";
const sha256 = (value: string) => crypto.createHash("sha256").update(value).digest("hex");
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  id: string;
  actor: { team: Team; apiKeyId: string };
  csrfToken: string;
  expiresAt: Date;
}

export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly teams: TeamService,
    /** CONSOLE_SESSION_HOURS. */
    private readonly lifetimeMs: number,
  ) {}

  /** A new session for a valid key (undefined for any other); returns the cookie's token once. */
  async signIn(apiKey: string): Promise<{ token: string; session: Session } | undefined> {
    const actor = await this.teams.authenticate(apiKey, { fresh: true });
    if (!actor) return undefined;
    // Expired sessions are removed here, where new ones are made: no periodic job needed.
    await this.db.consoleSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    const token = crypto.randomBytes(32).toString("base64url");
    const row = await this.db.consoleSession.create({
      data: {
        tokenHash: sha256(token),
        csrfToken: crypto.randomBytes(32).toString("base64url"),
        teamId: actor.team.id,
        apiKeyId: actor.apiKeyId,
        expiresAt: new Date(Date.now() + this.lifetimeMs),
      },
    });
    return { token, session: { id: row.id, actor, csrfToken: row.csrfToken, expiresAt: row.expiresAt } };
  }

  /** The live session of a cookie's token: not expired, its key not revoked. */
  async find(token: string): Promise<Session | undefined> {
    if (!tokenPattern.test(token)) return undefined;
    const row = await this.db.consoleSession.findUnique({ where: { tokenHash: sha256(token) }, include: { team: true, apiKey: true } });
    if (!row) return undefined;
    if (row.expiresAt.getTime() <= Date.now() || row.apiKey.revokedAt) {
      await this.db.consoleSession.deleteMany({ where: { id: row.id } });
      return undefined;
    }
    return { id: row.id, actor: { team: row.team, apiKeyId: row.apiKeyId }, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  async signOut(sessionId: string): Promise<void> {
    await this.db.consoleSession.deleteMany({ where: { id: sessionId } });
  }
}

/** The value of one cookie of a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Constant-time comparison of two strings (the CSRF token). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
