// The three kinds of operation as the deployment flow's stages: deploy
// (CREATE and UPDATE), refresh (the drift check) and remove (DELETE).
import os from "node:os";
import { prepareRequest, sizeLimits } from "../components/templates/index.js";
import { imagesWith, type Versions } from "../components/versions.js";
import { remountVolumes } from "./volume-remount.js";
import type { Prisma } from "../prisma/generated/client.js";
import { foreignUpdates, latestUpdate, refuseForeignChanges, serviceMessage } from "./drift.js";
import { changedSteps, engineProgress } from "./engine-progress.js";
import { stages } from "../core/event-log.js";
import type { ResourceSpec } from "./resource-program.js";
import type { Scope } from "./run-scope.js";
import { stackName } from "./stack-names.js";
import { copyBackupStore, runBackupJob } from "./kubernetes-backups.js";
import { storeDir } from "../core/backup-store.js";
import { errorMessage } from "../core/error-message.js";

interface UpdateParams {
  size?: string;
  options?: unknown;
  /** Image versions to run (PATCH versions, checked by the API: minor upgrades only). */
  versions?: Versions;
}

const provisioningSpan = stages.verifying - stages.provisioning;

/**
 * Before a Kubernetes database moves to another image: a backup, as a Docker
 * host takes in its beforeUp steps (components/templates/upgrade-steps.ts),
 * run by a Job of the backup CronJob's pod. The update stops if it fails.
 */
async function backupBeforeImageChange({ deps, resource, flow }: Scope, versions: Versions) {
  const kubernetes = deps.host.cloud?.kubernetes;
  const image = (v: Versions) => imagesWith(deps.host.images, v).postgres;
  if (!kubernetes || !resource.template.startsWith("postgres-") || image(versions) === image(resource.versions as Versions)) return;
  await flow.stage("provisioning", `the database moves to ${image(versions)}: a backup first`);
  await runBackupJob(kubernetes, resource.hostName, ["once", "before-upgrade"], 30 * 60_000).catch((error: unknown) => {
    throw new Error(`the backup before the upgrade failed, nothing was changed: ${errorMessage(error)}`);
  });
}

export async function deploy(scope: Scope) {
  const { deps, statuses, operation, resource, flow, redactor, output, context, open, ports: portsOf, spec: specOf } = scope;
  const { db } = deps;
  const params = operation.params as UpdateParams;
  const size = params.size ?? resource.size;
  const options = params.options ?? resource.options;
  const prepared = prepareRequest({ ...specOf(), size, options });
  await (operation.kind === "CREATE" ? statuses.markProvisioning(resource.id) : statuses.markUpdating(resource.id));
  await flow.stage("initialising", operation.kind === "CREATE" ? "provisioning started" : "update started");

  await flow.stage("allocating", `allocating ${prepared.portNames.length} host ports`);
  const ports = await portsOf().ensure(resource.id, prepared.portNames);

  await flow.stage("configuring", "planning the changes");
  const versions = params.versions ?? (resource.versions as Versions);
  const spec: ResourceSpec = { ...specOf(), size: prepared.size, options: prepared.options, versions, ports };
  const stack = await open(spec);
  await refuseForeignChanges(
    stack,
    resource,
    async (drift) => void (await db.resource.update({ where: { id: resource.id }, data: { drift: drift as Prisma.InputJsonValue } })),
  );
  const preview = await stack.preview({ signal: context.signal, onOutput: output.add });
  const total = changedSteps(preview.changeSummary);

  if (resource.target === "kubernetes" && operation.kind === "UPDATE") await backupBeforeImageChange(scope, versions);
  await flow.stage("provisioning", `applying ${total} changes`, undefined, { done: 0, total });
  const result = await stack.up({
    signal: context.signal,
    message: serviceMessage(operation.kind.toLowerCase(), operation.id),
    onOutput: output.add,
    onEvent: engineProgress(total, ({ done, total: all, step }) =>
      flow.later("provisioning", `${done} of ${all} resources done (${step})`, stages.provisioning + (provisioningSpan * done) / all, {
        done,
        total: all,
      }),
    ),
  });
  await flow.settled();

  await flow.stage("verifying", "checking the endpoint answers");
  const endpoint = result.outputs.endpoint?.value as Record<string, string>;
  const credentials = result.outputs.credentials?.value as Record<string, string>;
  redactor.add(Object.values(credentials));
  await deps.verify(endpoint);
  const sealed = deps.cipher.seal(resource.id, credentials);
  await statuses.markActive(resource.id, {
    size: prepared.size,
    options: prepared.options as Prisma.InputJsonValue,
    versions: versions as Prisma.InputJsonValue,
    endpoint,
    credentialsCiphertext: sealed.ciphertext,
    credentialsKeyId: sealed.keyId,
    configuration: {
      template: resource.template,
      size: prepared.size,
      options: prepared.options,
      ports,
      // The size's limits; on this machine's Docker host capped at its CPUs, saying so (a cloud server holds them).
      limits: sizeLimits(prepared, resource.target === "docker-host" ? (deps.host.cpus ?? os.availableParallelism()) : undefined),
      images: imagesWith(deps.host.images, versions),
      versions,
      stack: stackName(resource),
      project: resource.hostName,
      // Whether each volume's size is enforced on the host (components/model/volume-quota.ts).
      ...(result.outputs.storage?.value ? { storage: result.outputs.storage.value as unknown } : {}),
    } as Prisma.InputJsonValue,
    stackSeenAt: await latestUpdate(stack),
  });
  // A smaller system (fewer peers) needs fewer ports.
  await portsOf().release(resource.id, prepared.portNames);
  await flow.stage("complete", "ACTIVE");
}

export async function refresh({ deps, operation, resource, flow, output, context, open, ports: portsOf, spec: specOf }: Scope) {
  await flow.stage("initialising", "drift check started");
  const ports = await portsOf().ensure(resource.id, prepareRequest(specOf()).portNames);
  const stack = await open({ ...specOf(), ports });
  await flow.stage("configuring", "reading the stack's history and refreshing its state");
  const foreign = await foreignUpdates(stack, resource);
  if (resource.target === "docker-host") {
    const remounted = await remountVolumes(resource.hostName, deps.host.projectsDir);
    if (remounted) await flow.stage("configuring", remounted);
  }
  await stack.refresh({ signal: context.signal, message: serviceMessage("refresh", operation.id), onOutput: output.add });
  await flow.stage("verifying", "comparing with what the service deployed");
  const preview = await stack.preview({ signal: context.signal, onOutput: output.add });
  const pending = Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same"));
  const inSync = foreign.length === 0 && changedSteps(preview.changeSummary) === 0;
  const drift = { checkedAt: new Date().toISOString(), inSync, foreignUpdates: foreign, pendingChanges: pending };
  await deps.db.resource.update({
    where: { id: resource.id },
    // The check makes the foreign versions known: later operations may proceed.
    data: { drift, stackSeenAt: await latestUpdate(stack) },
  });
  await flow.stage(
    "complete",
    inSync
      ? "no drift"
      : `drift: ${foreign.length} update(s) made outside the service, ${changedSteps(preview.changeSummary)} change(s) to bring it back`,
    undefined,
    drift,
  );
}

/**
 * A Kubernetes database's backup store is a claim of its namespace, which the
 * destroy removes: first a final dump (as a Docker host's sidecar takes
 * before the teardown), then the store copied to this machine, where it is
 * kept like a Docker host's (BACKUP_RETENTION_AFTER_DELETE_DAYS). Neither
 * failing stops the DELETE (a database that no longer runs has no final
 * dump), but each is said in its stages: the copy the last health round took
 * is what remains then.
 */
async function keepKubernetesBackups({ deps, resource, flow }: Scope) {
  const { cloud, backupsDir } = deps.host;
  const kubernetes = cloud?.kubernetes;
  if (!kubernetes || !backupsDir) return;
  await flow.stage("provisioning", "taking a final backup in the cluster");
  const final = await runBackupJob(kubernetes, resource.hostName, ["final"], 15 * 60_000).then(
    () => "a final backup taken",
    (error: unknown) => `the final backup failed (${errorMessage(error)}): the backups before it are kept`,
  );
  const retention = (resource.options as { backupRetention?: number }).backupRetention ?? 7;
  const copied = await copyBackupStore(kubernetes, resource.hostName, storeDir(backupsDir, resource.hostName), retention, {
    walArchive: resource.template === "postgres-medium",
  }).then(
    ({ copied: files }) => `the backup store copied out of the cluster (${files} new files)`,
    (error: unknown) =>
      `the backup store could not be copied out of the cluster (${errorMessage(error)}): the copy of the last health round is kept`,
  );
  await flow.stage("provisioning", `${final}; ${copied}`);
}

export async function remove(scope: Scope) {
  const { deps, statuses, operation, resource, flow, output, context, find, ports: portsOf, spec: specOf } = scope;
  const { db } = deps;
  await statuses.markDeleting(resource.id);
  await flow.stage("initialising", "deletion started");
  const held = await db.portAllocation.findMany({ where: { resourceId: resource.id } });
  // A create that failed before its stack existed leaves none: the sweep below still removes what it started.
  const stack = await find({ ...specOf(), ports: Object.fromEntries(held.map((p) => [p.name, p.port])) });
  if (stack) {
    if (resource.target === "kubernetes" && resource.template.startsWith("postgres-")) await keepKubernetesBackups(scope);
    await flow.stage("provisioning", "destroying");
    const state = await stack.exportStack();
    const total = (state.deployment as { resources?: unknown[] } | undefined)?.resources?.length ?? 0;
    await stack.destroy({
      signal: context.signal,
      message: serviceMessage("delete", operation.id),
      onOutput: output.add,
      onEvent: engineProgress(total, ({ done, total: all, step }) =>
        flow.later("provisioning", `${done} of ${all} resources removed (${step})`, stages.provisioning + (provisioningSpan * done) / all, {
          done,
          total: all,
        }),
      ),
    });
    await flow.settled();
  } else {
    await flow.stage("provisioning", "the Pulumi backend has no stack for this resource: nothing was deployed through it");
  }
  await flow.stage("verifying", "removing anything left with the resource's label");
  // Catches what an interrupted create started but never recorded in the state
  // (on a cloud, the server itself goes with the stack).
  const swept = resource.target === "docker-host" ? await deps.sweep(resource.hostName, deps.host.projectsDir) : undefined;
  if (stack) await stack.remove();
  await portsOf().release(resource.id);
  await statuses.markDeleted(resource.id);
  const found = swept && swept.length ? `; swept ${swept.length} Docker object(s) left outside the state` : "";
  await flow.stage("complete", `DELETED${stack ? "" : " (there was no stack)"}${found}`, undefined, {
    stack: stack ? "destroyed" : "absent",
    swept: swept ?? [],
  });
}
