// Rows the unit tests put straight into the real database, where the test is
// about what reads them (metrics, the runner, the worker, the health monitor),
// not about how the API creates them.
import crypto from "node:crypto";
import type { Database } from "../core/db.js";
import type { Prisma } from "../prisma/generated/client.js";

/** A small-storage resource of `teamId` on the Docker host, as the service would have stored it; `fields` override. */
export function storedResource(db: Database, teamId: string, fields: Partial<Prisma.ResourceUncheckedCreateInput> = {}) {
  return db.resource.create({
    data: {
      teamId,
      name: "r",
      hostName: `r${crypto.randomBytes(6).toString("hex")}`,
      template: "small-storage",
      target: "docker-host",
      size: "small",
      cpus: 0.5,
      memoryMb: 512,
      ...fields,
    },
  });
}
