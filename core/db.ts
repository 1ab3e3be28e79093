// The Prisma client over node-postgres (@prisma/adapter-pg: no query-engine binary).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../prisma/generated/client.js";

export type Database = PrismaClient;

export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }),
    // A transaction may wait for its team's lock (lockTeam) behind that team's
    // other requests: Prisma's 5 s default failed the tenth of ten concurrent
    // creates on a busy 2-core host.
    transactionOptions: { maxWait: 10_000, timeout: 30_000 },
  });
}
