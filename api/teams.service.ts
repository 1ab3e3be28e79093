// Teams and their API keys. A key is shown once, at creation; the database
// keeps only its SHA-256 (the key is 32 random bytes, so a fast hash is enough).
import crypto from "node:crypto";
import { checkDnsLabel } from "../components/templates/request.js";
import type { Database } from "../core/db.js";
import type { ApiKey, Team, Tier } from "../prisma/generated/client.js";

const keyPattern = /^prov_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (key: string) => crypto.createHash("sha256").update(key).digest();

/**
 * How long a checked key is trusted without asking the database again: keeps
 * a lookup off every request; a revoked key stops working within this time.
 */
const authenticationTtlMs = 10_000;

export class TeamService {
  private readonly recent = new Map<string, { actor: { team: Team; apiKeyId: string }; until: number }>();

  constructor(private readonly db: Database) {}

  /** Creates a team with its first API key; returns the key in clear, once. */
  async create(name: string, tier: Tier = "FREE"): Promise<{ team: Team; apiKey: string }> {
    // The team name goes into resource and container names: a short DNS label.
    checkDnsLabel("name", name, 20);
    const prefix = crypto.randomBytes(6).toString("hex");
    const apiKey = `prov_${prefix}_${crypto.randomBytes(32).toString("base64url")}`;
    const team = await this.db.team.create({
      data: { name, tier, apiKeys: { create: { prefix, hash: sha256(apiKey).toString("hex") } } },
    });
    return { team, apiKey };
  }

  /** The team an API key belongs to (and the key's id), or undefined for a malformed, unknown or revoked key. */
  async authenticate(apiKey: string, { fresh = false }: { fresh?: boolean } = {}): Promise<{ team: Team; apiKeyId: string } | undefined> {
    const match = keyPattern.exec(apiKey);
    if (!match) return undefined;
    const digest = sha256(apiKey);
    const cacheKey = digest.toString("base64");
    const cached = this.recent.get(cacheKey);
    // `fresh`: a console sign-in asks the database (a key revoked a moment ago makes no session).
    if (!fresh && cached && cached.until > Date.now()) return cached.actor;
    const actor = await this.lookup(match[1]!, digest);
    if (actor) {
      if (this.recent.size > 10_000) this.recent.clear();
      this.recent.set(cacheKey, { actor, until: Date.now() + authenticationTtlMs });
    }
    return actor;
  }

  /** The team's keys, newest first (revoked ones too: the team page shows when). */
  async listKeys(teamId: string) {
    return this.db.apiKey.findMany({ where: { teamId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] });
  }

  /** Another key for the team; the key in clear is returned once. */
  async createKey(teamId: string): Promise<{ key: ApiKey; apiKey: string }> {
    const prefix = crypto.randomBytes(6).toString("hex");
    const apiKey = `prov_${prefix}_${crypto.randomBytes(32).toString("base64url")}`;
    const key = await this.db.apiKey.create({ data: { teamId, prefix, hash: sha256(apiKey).toString("hex") } });
    return { key, apiKey };
  }

  /**
   * Revokes one of the team's keys (undefined: no such key in the team). Its
   * console sessions are deleted in the same transaction, and this instance
   * forgets it at once; other instances trust it for at most authenticationTtlMs
   * over the Authorization header, never over a session (read every request).
   */
  async revokeKey(teamId: string, keyId: string): Promise<ApiKey | undefined> {
    const key = await this.db.$transaction(async (tx) => {
      const found = await tx.apiKey.findFirst({ where: { id: keyId, teamId } });
      if (!found) return undefined;
      await tx.consoleSession.deleteMany({ where: { apiKeyId: keyId } });
      return found.revokedAt ? found : tx.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
    });
    for (const [cacheKey, entry] of this.recent) if (entry.actor.apiKeyId === keyId) this.recent.delete(cacheKey);
    return key;
  }

  private async lookup(prefix: string, digest: Buffer): Promise<{ team: Team; apiKeyId: string } | undefined> {
    const key = await this.db.apiKey.findUnique({ where: { prefix }, include: { team: true } });
    if (!key || key.revokedAt) return undefined;
    return crypto.timingSafeEqual(Buffer.from(key.hash, "hex"), digest) ? { team: key.team, apiKeyId: key.id } : undefined;
  }
}
