// A Docker host whose engine does not isolate resources from each other
// serves one team only: another team's create is refused and creates nothing.
// Against the real database, no worker.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveImages } from "../components/images.js";
import { discardUnfinishedOperations } from "../test/service-client.js";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "../core/credentials-cipher.js";
import { createDatabase, type Database } from "../core/db.js";
import { ApiError } from "./errors.js";
import { ResourceService } from "./resources.service.js";
import { TeamService } from "./teams.service.js";

describe("a Docker host without isolation between resources", () => {
  let db: Database;
  const cipher = new CredentialsCipher(parseKeyring(generateKeyringSpec("policy")));
  const service = (isolationProblem?: string) => new ResourceService(db, cipher, resolveImages({}), { sshCidrs: [] }, { isolationProblem });
  const body = (name: string) => ({ template: "small-storage", name, target: "docker-host" as const, options: { publicNetwork: false } });

  const teamIds: string[] = [];
  beforeAll(() => {
    db = createDatabase(process.env.DATABASE_URL!);
  });
  afterAll(async () => {
    await discardUnfinishedOperations(db, { teamIds });
    await db.$disconnect();
  });

  it("refuses a second team's create with 403 isolation_unavailable naming target, and creates nothing", async () => {
    const teams = new TeamService(db);
    const first = (await teams.create(`p${crypto.randomBytes(4).toString("hex")}`, "PRO")).team;
    const second = (await teams.create(`p${crypto.randomBytes(4).toString("hex")}`, "PRO")).team;
    teamIds.push(first.id, second.id);
    // The first team already runs a resource on this host.
    await service().create({ team: first, apiKeyId: crypto.randomUUID() }, body("mine"));

    const refused = await service("the Docker engine runs with --iptables=false")
      .create({ team: second, apiKeyId: crypto.randomUUID() }, body("theirs"))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 403, code: "isolation_unavailable", fields: [{ field: "target" }] });
    expect(await db.resource.count({ where: { teamId: second.id } })).toBe(0);

    // With isolation, the same request is accepted.
    await expect(service().create({ team: second, apiKeyId: crypto.randomUUID() }, body("theirs"))).resolves.toMatchObject({
      resource: { status: "PROVISIONING" },
    });
  });
});
