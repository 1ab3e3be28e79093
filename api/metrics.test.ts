// The service's per-resource series: labelled with the resource id, and gone
// with the resource (its DELETE seen here, or the health monitor's sweep of
// resources another instance deleted). Real database (the Metrics' gauges
// count from it), no engine.
import crypto from "node:crypto";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { EventLog } from "../core/event-log.js";
import type { Operation } from "../prisma/generated/client.js";
import { CredentialsCipher, generateKeyringSpec, parseKeyring } from "../core/credentials-cipher.js";
import { createDatabase } from "../core/db.js";
import { Scheduler } from "../core/scheduler.js";
import { HealthMonitor } from "./health-monitor.js";
import { Metrics } from "./metrics.js";
import { TeamService } from "./teams.service.js";
import { storedResource } from "../test/rows.js";

const db = createDatabase(process.env.DATABASE_URL!);
const healthy = { failures: [], measurements: { repoSizeBytes: 1000, storageMaxBytes: 5e9 } };

async function resource(status: "ACTIVE" | "DELETED" = "ACTIVE") {
  const { team } = await new TeamService(db).create(`mt${crypto.randomBytes(4).toString("hex")}`, "PRO");
  const row = await storedResource(db, team.id, { name: "same-name", status });
  return { resource_id: row.id, team: team.name, resource: row.name, template: row.template };
}

const seriesOf = async (metrics: Metrics, id: string) =>
  (await metrics.registry.metrics()).split("\n").filter((line) => line.includes(`resource_id="${id}"`));

describe("per-resource metrics", () => {
  afterAll(async () => {
    await db.$disconnect();
  });

  it("carry the resource id; a successful DELETE removes the resource's series and no other", async () => {
    const metrics = new Metrics(db);
    const gone = await resource();
    const kept = await resource();
    metrics.healthChecked(gone, healthy);
    metrics.healthChecked(kept, healthy);
    expect(await seriesOf(metrics, gone.resource_id)).toEqual([
      `provisioner_resource_healthy{resource_id="${gone.resource_id}",team="${gone.team}",resource="same-name",template="small-storage"} 1`,
      `provisioner_ipfs_repo_size_bytes{resource_id="${gone.resource_id}",team="${gone.team}",resource="same-name",template="small-storage"} 1000`,
      `provisioner_ipfs_storage_max_bytes{resource_id="${gone.resource_id}",team="${gone.team}",resource="same-name",template="small-storage"} 5000000000`,
    ]);
    const deleteOf = (resourceId: string) => ({ id: crypto.randomUUID(), kind: "DELETE", resourceId }) as Operation;
    metrics.started(deleteOf(gone.resource_id));
    metrics.finished(deleteOf(gone.resource_id), { status: "FAILED" }, 1);
    expect(await seriesOf(metrics, gone.resource_id)).toHaveLength(3); // a failed DELETE leaves the resource
    metrics.finished(deleteOf(gone.resource_id), { status: "SUCCEEDED" }, 1);
    expect(await seriesOf(metrics, gone.resource_id)).toEqual([]);
    expect(await seriesOf(metrics, kept.resource_id)).toHaveLength(3);
  });

  it("the health monitor's round removes the series of resources deleted elsewhere", async () => {
    const metrics = new Metrics(db);
    const deletedElsewhere = await resource("DELETED");
    const live = await resource();
    metrics.healthChecked(deletedElsewhere, healthy);
    metrics.healthChecked(live, healthy);
    const keyring = parseKeyring(generateKeyringSpec("metrics-test"));
    const monitor = new HealthMonitor({
      db,
      events: new EventLog(db),
      cipher: new CredentialsCipher(keyring),
      metrics,
      logger: pino({ level: "silent" }),
      settings: { intervalSeconds: 0, timeoutSeconds: 1, maxReplicaLagSeconds: 60 },
      scheduler: new Scheduler(db, pino({ level: "silent" })),
    });
    await monitor.checkAll();
    expect(await seriesOf(metrics, deletedElsewhere.resource_id)).toEqual([]);
    expect(await seriesOf(metrics, live.resource_id)).toHaveLength(3);
  });
});
