// The status table, and its transitions against the real control-plane database.
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "./db.js";
import { OperationQueue } from "../automation/operation-queue.js";
import type { ResourceStatus } from "../prisma/generated/client.js";
import { canMove, IllegalTransition, ResourceStatuses } from "./resource-status.js";

const all: ResourceStatus[] = ["PROVISIONING", "UPDATING", "ACTIVE", "DEGRADED", "FAILED", "DELETING", "DELETED"];

// Rows: from; a "x" where the move is legal. Written out so a change to the table is a change here too.
const expected: Record<ResourceStatus, string> = {
  //              PROV UPD ACT DEG FAIL DEL-ING DELETED
  PROVISIONING: "x    .   x   .   x    x       .",
  UPDATING: /**/ "x    x   x   x   x    x       .",
  ACTIVE: /*  */ ".    x   .   x   x    x       .",
  DEGRADED: /**/ ".    x   x   x   x    x       .",
  FAILED: /*  */ ".    x   .   .   x    x       .",
  DELETING: /**/ ".    .   .   .   x    x       x",
  DELETED: /* */ ".    .   .   .   .    .       .",
};

describe("resource status table", () => {
  const cases = all.flatMap((from) => {
    const marks = expected[from].split(/\s+/);
    return all.map((to, i) => ({ from, to, legal: marks[i] === "x" }));
  });
  it.each(cases)("$from → $to is legal: $legal", ({ from, to, legal }) => {
    expect(canMove(from, to)).toBe(legal);
  });
});

describe("ResourceStatuses against the database", () => {
  const db = createDatabase(process.env.DATABASE_URL!);
  const statuses = new ResourceStatuses(db);
  const teamIds: string[] = [];
  afterAll(async () => {
    await db.resource.deleteMany({ where: { teamId: { in: teamIds } } });
    await db.team.deleteMany({ where: { id: { in: teamIds } } });
    await db.$disconnect();
  });

  async function resource(status: ResourceStatus) {
    const suffix = crypto.randomBytes(4).toString("hex");
    const team = await db.team.create({ data: { name: `status-${suffix}` } });
    teamIds.push(team.id);
    return db.resource.create({
      data: {
        teamId: team.id,
        name: "r",
        hostName: `status-${suffix}`,
        template: "postgres",
        target: "docker-host",
        size: "small",
        cpus: 1,
        memoryMb: 256,
        status,
      },
    });
  }

  it("a legal move changes the status and its columns; a deletion clears endpoint and credentials", async () => {
    const r = await resource("PROVISIONING");
    await statuses.markActive(r.id, { endpoint: { host: "h" }, credentialsCiphertext: Buffer.from("x"), credentialsKeyId: "k" });
    expect(await db.resource.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({
      status: "ACTIVE",
      endpoint: { host: "h" },
      lastError: null,
    });
    await statuses.markDeleting(r.id);
    await statuses.markDeleted(r.id);
    const gone = await db.resource.findUniqueOrThrow({ where: { id: r.id } });
    expect(gone).toMatchObject({ status: "DELETED", endpoint: null, credentialsCiphertext: null, credentialsKeyId: null });
    expect(gone.deletedAt).toBeInstanceOf(Date);
  });

  it("an illegal move throws naming the status found and changes nothing", async () => {
    const r = await resource("DELETED");
    const error = await statuses.markFailed(r.id, "late failure").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IllegalTransition);
    expect((error as IllegalTransition).from).toBe("DELETED");
    expect(await db.resource.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ status: "DELETED", lastError: null });
  });

  it("the health monitor's move happens only from the status it saw, with something to change, and no operation pending", async () => {
    const r = await resource("ACTIVE");
    expect(await statuses.healthMove(r.id, { from: "DEGRADED", to: "ACTIVE", lastError: null })).toBe(false);
    expect(await statuses.healthMove(r.id, { from: "ACTIVE", to: "DEGRADED", lastError: "ipfs1 down" })).toBe(true);
    // Same status, same reason: nothing to record.
    expect(await statuses.healthMove(r.id, { from: "DEGRADED", to: "DEGRADED", lastError: "ipfs1 down" })).toBe(false);
    await db.$transaction((tx) => OperationQueue.enqueue(tx, r.id, "UPDATE"));
    expect(await statuses.healthMove(r.id, { from: "DEGRADED", to: "ACTIVE", lastError: null })).toBe(false);
    expect(await db.resource.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ status: "DEGRADED", lastError: "ipfs1 down" });
  });

  it("a health move the table forbids (ACTIVE to ACTIVE records nothing) throws", async () => {
    const r = await resource("ACTIVE");
    await expect(statuses.healthMove(r.id, { from: "ACTIVE", to: "ACTIVE", lastError: null })).rejects.toBeInstanceOf(IllegalTransition);
  });
});
