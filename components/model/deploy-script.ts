// Shell scripts the Docker-host target runs on the host (locally or over SSH):
// write the project's files, bring it up, wait until healthy; or take it down
// and remove everything carrying the project's label. POSIX sh + docker only,
// so any Docker host runs them as they are.
import { beforeDownLabel, filesDir, labelsOf, projectLabel, renderCompose } from "./compose.js";
import { ensureVolumesScript, removeVolumesLines } from "./volume-quota.js";
import type { SystemModel, SystemTask } from "./system.js";

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Writes a file from base64, so any content survives the shell unchanged. */
function writeFile(path: string, content: string): string {
  return `printf '%s' ${quote(Buffer.from(content).toString("base64"))} | base64 -d > ${quote(path)}`;
}

/**
 * The system's tasks of one moment (SystemTask) on a Docker host: each
 * script, through stdin, to a shell in the running container of its service.
 * Before `up` a service without a container (a create) has nothing to do.
 */
function tasksOnDockerHost(model: SystemModel, when: SystemTask["when"]): string[] {
  return (model.tasks ?? [])
    .filter((t) => t.when === when)
    .flatMap((task) => {
      const container = `"$PROJECT-${task.service}"`;
      const run = [
        `echo ${quote(`task ${task.name} in ${task.service}`)}`,
        `printf '%s' ${quote(Buffer.from(task.script).toString("base64"))} | base64 -d | docker exec -i ${container} sh -s`,
      ];
      if (when === "afterUp") return run;
      return [`if [ -n "$(docker ps -q --filter "name=^$PROJECT-${task.service}$")" ]; then`, ...run.map((l) => `  ${l}`), "fi"];
    });
}

const pickCompose = `if docker compose version >/dev/null 2>&1; then dc="docker compose"; else dc="docker-compose"; fi`;

export interface ScriptOptions {
  /** Directory on the host holding one folder per project. */
  projectsDir: string;
  /** How long to wait for every container to be healthy. */
  healthTimeoutSeconds: number;
}

/**
 * Commands that remove a project and everything carrying its label.
 *
 * Anonymous volumes (an image's VOLUME the system does not mount a volume
 * on, e.g. Kubo's /export) carry no label, and once Compose has recreated a
 * container (an update) they are attached to the new one by name, so neither
 * `down -v` nor `rm -v` removes them: the volumes the containers mount are
 * noted first and removed after the containers.
 */
function teardownLines(project: string, projectsDir: string): string[] {
  const dir = `${projectsDir}/${project}`;
  const filter = `--filter label=${projectLabel}=${project}`;
  return [
    // What a service asks to run before it goes (a database's final backup into its store, which stays).
    `for c in $(docker ps -q ${filter} --filter label=${beforeDownLabel}); do docker exec "$c" sh -c "$(docker inspect -f '{{index .Config.Labels "${beforeDownLabel}"}}' "$c")" >&2 || echo "before-down of $c failed" >&2; done`,
    `ids=$(docker ps -aq ${filter}); mounted=''; [ -z "$ids" ] || mounted=$(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' $ids)`,
    `if [ -f ${quote(`${dir}/docker-compose.yml`)} ]; then (cd ${quote(dir)} && $dc -p ${quote(project)} down -v --remove-orphans --timeout 20); fi`,
    `ids=$(docker ps -aq ${filter}); [ -z "$ids" ] || docker rm -f -v $ids`,
    `for v in $mounted; do docker volume rm -f "$v" >/dev/null 2>&1 || true; done`,
    `ids=$(docker volume ls -q ${filter}); [ -z "$ids" ] || docker volume rm -f $ids`,
    `ids=$(docker network ls -q ${filter}); [ -z "$ids" ] || docker network rm $ids`,
    `rm -rf ${quote(dir)}`,
    // The volumes' images and mounts, once nothing uses them.
    ...removeVolumesLines(projectsDir, project),
  ];
}

/**
 * `sh script create` or `sh script update`. A failed create removes what it
 * started (Pulumi records no resource then, so nothing else would); a failed
 * update leaves the system as it is, for the next update or a destroy.
 */
export function upScript(model: SystemModel, options: ScriptOptions): string {
  const dir = `${options.projectsDir}/${model.project}`;
  const filter = `--filter label=${projectLabel}=${model.project}`;
  const lines = [
    "set -eu",
    "umask 077", // the Compose file holds the generated credentials
    pickCompose,
    "teardown() {",
    ...teardownLines(model.project, options.projectsDir).map((l) => `  ${l}`),
    "}",
    `if [ "\${1:-update}" = create ]; then trap 'rc=$?; if [ $rc -ne 0 ]; then echo "create failed: removing what it started" >&2; teardown >&2 || true; fi' EXIT; fi`,
    // Mounted again at each deploy: a rebooted host gets its volumes back (idempotent).
    ...(model.volumeSizesMb
      ? ensureVolumesScript({
          project: model.project,
          projectsDir: options.projectsDir,
          labels: labelsOf(model),
          sizesMb: model.volumeSizesMb,
        })
      : []),
    `mkdir -p ${quote(`${dir}/${filesDir}`)}`,
    `cd ${quote(dir)}`,
    writeFile("docker-compose.yml", renderCompose(model)),
    ...Object.entries(model.files).map(([name, content]) => writeFile(`${filesDir}/${name}`, content)),
    // Containers read the files as their own users; the files hold no secrets
    // (those stay in the Compose file, readable by the deploying user only).
    `chmod 0644 ${filesDir}/* 2>/dev/null || true`,
    `PROJECT=${quote(model.project)}`,
    // Peers out of a cluster before a rolling upgrade touches them, as before the tasks existed.
    ...tasksOnDockerHost(model, "beforeRemove"),
    ...(model.beforeUp ?? []),
    `$dc -p ${quote(model.project)} up -d --remove-orphans`,
    // Wait until every container is healthy (or running, without a health
    // check); stop at the first that is unhealthy or stopped.
    `deadline=$(( $(date +%s) + ${options.healthTimeoutSeconds} ))`,
    "while :; do",
    "  pending=''; failed=''",
    // One `docker inspect` for every container (name:state), not one per container: on a busy host each call costs 50-100 ms.
    `  ids=$(docker ps -aq ${filter}); states=''`,
    `  [ -z "$ids" ] || states=$(docker inspect -f '{{.Name}}:{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $ids)`,
    "  for cs in $states; do",
    "    c=${cs%%:*}; c=${c#/}; s=${cs##*:}",
    '    case "$s" in healthy|running) ;; starting) pending="$pending $c" ;; *) failed="$failed $c:$s" ;; esac',
    "  done",
    '  if [ -n "$failed" ] || { [ -n "$pending" ] && [ "$(date +%s)" -ge "$deadline" ]; }; then',
    '    echo "not healthy:$failed$pending" >&2',
    '    for c in $failed $pending; do c=${c%%:*}; echo "--- last log lines of $c" >&2; docker logs --tail 20 "$c" >&2 2>&1 || true; done',
    "    exit 1",
    "  fi",
    '  [ -z "$pending" ] && break',
    "  sleep 1",
    "done",
    ...(model.afterUp ?? []),
    ...tasksOnDockerHost(model, "afterUp"),
    `echo "project ${model.project} is up and healthy"`,
  ];
  return `${lines.join("\n")}\n`;
}

/** Takes the project down, then removes whatever still carries its label. */
export function downScript(project: string, options: Pick<ScriptOptions, "projectsDir">): string {
  const filter = `--filter label=${projectLabel}=${project}`;
  return [
    "set -u",
    pickCompose,
    ...teardownLines(project, options.projectsDir),
    `left=$(docker ps -aq ${filter}; docker volume ls -q ${filter}; docker network ls -q ${filter}; [ ! -e "$vdir" ] || echo "$vdir")`,
    `if [ -n "$left" ]; then echo "could not remove: $left" >&2; exit 1; fi`,
  ].join("\n");
}
