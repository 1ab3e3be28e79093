// How soon a row written on postgres-medium's primary is readable on its
// replica (the tests only wait for it; the figure lives here). Prints
// figures; asserts nothing. Run: npm run bench -- replica-lag
import crypto from "node:crypto";
import { testDeployment } from "../test/deployment.js";
import { psql } from "../test/postgres-client.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const deployment = await testDeployment({
  template: "postgres-medium",
  name: "benchlag",
  team: "bench",
  size: "small",
  resourceId: crypto.randomUUID(),
});
try {
  const { endpoint, credentials } = await deployment.up();
  const primary = (sql: string) => psql(endpoint, credentials, sql);
  const replica = (sql: string) => psql(endpoint, credentials, sql, { port: endpoint.replicaPort });
  await primary("CREATE TABLE lag (id int PRIMARY KEY)");
  const lags: number[] = [];
  for (let i = 0; i < runs; i++) {
    await primary(`INSERT INTO lag VALUES (${i})`);
    const started = performance.now();
    // Polled as a client would; a psql start costs a few ms of the figure.
    while ((await replica(`SELECT count(*) FROM lag WHERE id = ${i}`).catch(() => "0")) !== "1") {
      if (performance.now() - started > 120_000) throw new Error(`row ${i} not on the replica after 120 s`);
    }
    lags.push((performance.now() - started) / 1000);
  }
  console.log(
    `postgres-medium replica: a committed row readable after ${median(lags).toFixed(2)} s (median of ${runs}; max ${Math.max(...lags).toFixed(2)} s)`,
  );
} finally {
  await deployment.destroy();
}
