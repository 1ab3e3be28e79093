// A Docker host refuses a container whose CPU limit is above its own CPUs; the
// Docker-host target caps every limit there, and the service's configuration
// of the resource says so (sizeLimits, in the template contract's tests).
import { afterAll, describe, expect, it } from "vitest";
import { dockerHostCpus, dockerHostOpenFiles } from "../automation/docker-host-limits.js";
import { resolveImages } from "../components/images.js";
import { docker } from "./docker.js";
import { leftovers, testDeployment, type TestDeployment } from "./deployment.js";
import { psql } from "./postgres-client.js";

const testLabel = `provisioner.test=cpu-cap-${process.pid}`;

describe("CPU and open-files limits on a Docker host with less than the size asks", () => {
  let deployment: TestDeployment | undefined;
  afterAll(async () => {
    // Only if the engine took the limit after all (then the first test failed).
    const created = await docker("ps", "-aq", "--filter", `label=${testLabel}`);
    if (created) await docker("rm", "-f", ...created.split("\n"));
    if (!deployment) return;
    await deployment.destroy();
    expect(await leftovers(deployment.project)).toEqual([]);
  }, 180_000);

  it("the engine itself refuses a limit above its CPUs", async () => {
    const cpus = await dockerHostCpus();
    const create = docker("create", "--label", testLabel, "--cpus", String(cpus + 1), resolveImages().postgres, "true");
    await expect(create).rejects.toThrow(/range of cpus/i);
  });

  it("postgres-small at size large (8 vCPUs) comes up capped at the host's CPUs, and answers", { timeout: 400_000 }, async () => {
    const cpus = await dockerHostCpus();
    deployment = await testDeployment({ template: "postgres-small", name: "capped", team: "qa", size: "large" });
    // The host's limits as the service's worker passes them (docker info's NCPU, a container's open files).
    const openFiles = await dockerHostOpenFiles(resolveImages().pgbouncer);
    const { endpoint, credentials } = await deployment.up({ target: { ...deployment.args.target!, cpus, openFiles } });
    expect(await psql(endpoint, credentials, "SELECT 1")).toBe("1");
    const nanoCpus = await docker("inspect", "--format", "{{.HostConfig.NanoCpus}}", `${deployment.project}-postgres`);
    expect(Number(nanoCpus)).toBe(Math.min(8, cpus) * 1e9);
    // Its pooler wants 40,000 clients: it gets what the host's containers may open.
    const ulimit = await docker("exec", `${deployment.project}-pgbouncer`, "sh", "-c", "ulimit -n");
    expect(Number(ulimit)).toBe(Math.min(41_024, openFiles ?? Infinity));
  });
});
