// What a template runs on the host before `compose up` when an update moves
// its containers to other images (PATCH versions): shell lines for
// SystemModel.beforeUp, run with $PROJECT and $dc set, in the project's folder
// after the new Compose file is written. A create finds no container and does
// nothing here.

/** The image a running container was made from differs from the one the Compose file now names. */
const imageChanged = (container: string, image: string) =>
  `{ docker inspect "${container}" >/dev/null 2>&1 && [ "$(docker inspect -f '{{.Config.Image}}' "${container}")" != '${image}' ]; }`;

/**
 * Rolls new images through a cluster one node at a time (Kubo node and its
 * cluster peer together), so that every pin keeps its other replicas while a
 * node restarts: recreate the node, wait until both containers are healthy,
 * the peer is in another peer's peerset again, and the peer's own pins are
 * pinned again (none pinning or in error); only then the next node.
 */
export function rollingClusterUpgrade(options: {
  nodes: { kubo: string; peer: string }[];
  images: { kubo: string; peer: string };
  /** ipfs-cluster-ctl against the peer's own REST API, run by `sh -c` in a peer's container. */
  clusterCtl: string;
  timeoutSeconds: number;
}): string[] {
  const { nodes, images, clusterCtl, timeoutSeconds } = options;
  const lines = [
    "roll_wait() { # <what> <command...>: until the command succeeds, at most the timeout",
    "  what=$1; shift; t=0",
    '  until "$@" >/dev/null 2>&1; do',
    `    t=$((t + 1)); [ "$t" -lt ${timeoutSeconds} ] || { echo "upgrade: $what after ${timeoutSeconds} s" >&2; exit 1; }`,
    "    sleep 1",
    "  done",
    "}",
    'roll_healthy() { [ "$(docker inspect -f \'{{.State.Health.Status}}\' "$1")" = healthy ]; }',
    `roll_in_peerset() { docker exec "$1" sh -c '${clusterCtl} peers ls' | grep -qE "\\| $2 \\| Sees"; }`,
    // Every pin pinned on every peer it is allocated to (`--local`: those of this peer only).
    `roll_settled() { out=$(docker exec "$1" sh -c '${clusterCtl} --enc json status "$@"' sh \${2:-}) || return 1; ! printf '%s' "$out" | grep -qE '"status": ?"(pinning|pin_queued|pin_error|unexpectedly_unpinned|cluster_error|undefined)"'; }`,
  ];
  nodes.forEach((node, i) => {
    const kubo = `$PROJECT-${node.kubo}`;
    const peer = `$PROJECT-${node.peer}`;
    const witness = nodes.length > 1 ? `$PROJECT-${nodes[(i + 1) % nodes.length]!.peer}` : undefined;
    lines.push(
      `if ${imageChanged(peer, images.peer)} || ${imageChanged(kubo, images.kubo)}; then`,
      // Only from a cluster whose every pin has all its replicas: the others keep them while this node restarts.
      ...(witness ? [`  roll_wait "pins not all pinned before ${node.peer} restarts" roll_settled "${witness}"`] : []),
      `  echo "upgrade: ${node.kubo} and ${node.peer} to ${images.kubo}, ${images.peer}"`,
      `  $dc -p "$PROJECT" up -d --no-deps ${node.kubo} ${node.peer}`,
      `  roll_wait "${node.kubo} not healthy" roll_healthy "${kubo}"`,
      `  roll_wait "${node.peer} not healthy" roll_healthy "${peer}"`,
      ...(witness ? [`  roll_wait "${node.peer} not in the peerset" roll_in_peerset "${witness}" ${node.peer}`] : []),
      `  roll_wait "${node.peer}'s pins not pinned again" roll_settled "${peer}" --local`,
      ...(witness ? [`  roll_wait "pins not all pinned after ${node.peer} restarted" roll_settled "${witness}"`] : []),
      "fi",
    );
  });
  return lines;
}

/**
 * Before a database container moves to another image: a backup taken by the
 * resource's own backup sidecar (`backup.sh once before-upgrade`): the same
 * verified backup as the scheduled ones (a dump with size > 0 and a readable
 * table of contents, postgres-medium a base backup too, recorded in the
 * resource's backup store, which outlives the update: postgres-backup.ts), so
 * `restoreFrom` can make a new database from it. The update stops if it fails.
 * The scheduled restore verification (api/restore-verification.ts) restores
 * the latest backup, this one until the next.
 */
export function backupBeforeImageChange(options: { database: string; backup: string; image: string; backupScript: string }): string[] {
  const database = `$PROJECT-${options.database}`;
  return [
    `if ${imageChanged(database, options.image)}; then`,
    `  echo "upgrade: ${options.database} to ${options.image}, a backup first"`,
    `  docker exec "$PROJECT-${options.backup}" sh ${options.backupScript} once before-upgrade`,
    "fi",
  ];
}
