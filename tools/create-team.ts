// npm run create-team -- <name> [--tier free|basic|pro|enterprise]
// Creates a team and prints its API key once, on the last line.
import { parseArgs } from "node:util";
import { createDatabase } from "../core/db.js";
import { TeamService } from "../api/teams.service.js";
import { TemplateInputError } from "../components/templates/request.js";
import { Tier } from "../prisma/generated/enums.js";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { tier: { type: "string", default: "free" } } });
const [name] = positionals;
const tier = values.tier.toUpperCase() as Tier;
if (!name || positionals.length > 1 || !(tier in Tier)) {
  console.error("usage: npm run create-team -- <name> [--tier free|basic|pro|enterprise]");
  process.exit(2);
}

const db = createDatabase(process.env.DATABASE_URL!);
try {
  const { team, apiKey } = await new TeamService(db).create(name, tier);
  console.log(`created team ${team.name} (tier ${team.tier.toLowerCase()}); its API key, shown only now:`);
  console.log(apiKey);
} catch (error) {
  const duplicate = (error as { code?: string }).code === "P2002";
  console.error(
    duplicate ? `a team named ${name} exists already` : error instanceof TemplateInputError ? `team ${error.message}` : String(error),
  );
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
