// Teams and API keys against the real control-plane database.
import crypto from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDatabase } from "../core/db.js";
import { TeamService } from "./teams.service.js";

const db = createDatabase(process.env.DATABASE_URL!);
const teams = new TeamService(db);
const unique = () => `t${crypto.randomBytes(4).toString("hex")}`;

afterAll(() => db.$disconnect());

describe("TeamService", () => {
  it("creates a team whose key authenticates it, storing only the key's SHA-256", async () => {
    const { team, apiKey } = await teams.create(unique(), "PRO");
    expect(team.tier).toBe("PRO");
    expect((await teams.authenticate(apiKey))?.team.id).toBe(team.id);
    const [stored] = await db.apiKey.findMany({ where: { teamId: team.id } });
    expect(stored!.hash).toBe(crypto.createHash("sha256").update(apiKey).digest("hex"));
    // The secret part follows "prov_<12 hex>_" (and may itself contain "_").
    expect(JSON.stringify(stored)).not.toContain(apiKey.slice("prov_".length + 13));
  });

  it("when the key is wrong, malformed or revoked, then it authenticates nobody", async () => {
    const { team, apiKey } = await teams.create(unique());
    const tampered = apiKey.slice(0, -1) + (apiKey.endsWith("A") ? "B" : "A");
    expect(await teams.authenticate(tampered)).toBeUndefined();
    expect(await teams.authenticate("not-a-key")).toBeUndefined();
    await db.apiKey.updateMany({ where: { teamId: team.id }, data: { revokedAt: new Date() } });
    expect(await teams.authenticate(apiKey)).toBeUndefined();
  });

  it("when a key in use is revoked, then it stops working within the 10 s it is trusted without a lookup", async () => {
    const { team, apiKey } = await teams.create(unique());
    expect(await teams.authenticate(apiKey)).toBeDefined();
    await db.apiKey.updateMany({ where: { teamId: team.id }, data: { revokedAt: new Date() } });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 10_001);
      expect(await teams.authenticate(apiKey)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it("when the name is not a short DNS label, then it names the field", async () => {
    await expect(teams.create("Team One")).rejects.toThrow(/^name: must be a DNS label/);
    await expect(teams.create("a".repeat(21))).rejects.toThrow(/^name: must be at most 20 characters/);
  });
});
