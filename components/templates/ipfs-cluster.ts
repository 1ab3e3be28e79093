// ipfs-cluster-small: N Kubo nodes + N ipfs-cluster peers (CRDT consensus,
// shared secret, fixed identities bootstrapped to each other, replication
// between min and max), REST API and Pinning Service API published with auth.
import { deriveIdentity } from "../model/identity.js";
import type { ServiceSpec, SystemModel, SystemTask } from "../model/system.js";
import { kuboInitFile, kuboInitScript, kuboService } from "./kubo.js";
import { metricsProxyFile, metricsProxyScript, metricsProxyService } from "./metrics-proxy.js";
import { kuboMetricsPath } from "./metrics-proxy.js";
import { gatewayBalancerFile, gatewayBalancerScript, gatewayBalancerService } from "./gateway-balancer.js";
import type { TemplateSizes } from "./sizes.js";
import { rollingClusterUpgrade } from "./upgrade-steps.js";
import {
  healthCheck,
  httpAddress,
  integerOption,
  optionsObject,
  publicNetworkOption,
  type Template,
  type TemplateContext,
} from "./template.js";

export interface IpfsClusterOptions {
  peers: number;
  replicationMin: number;
  replicationMax: number;
  /** Join the public IPFS network (bootstrap peers, delegated routing). */
  publicNetwork: boolean;
}

/**
 * Per node: each Kubo node's limits and StorageMax. Its cluster peer gets
 * half its CPU and a quarter of its memory (clusterPeerLimits), the metrics
 * proxy comes on top, once.
 */
export const ipfsClusterSizes: TemplateSizes = {
  small: { cpus: 0.5, memoryMb: 1024, storageGb: 10 },
  medium: { cpus: 1, memoryMb: 2048, storageGb: 50 },
  large: { cpus: 2, memoryMb: 4096, storageGb: 100 },
};

/** An ipfs-cluster peer keeps the pinset and talks to its node: lighter than the node. */
export const clusterPeerLimits = (node: { cpus: number; memoryMb: number }) => ({ cpus: node.cpus / 2, memoryMb: node.memoryMb / 4 });

const restApiUser = "admin";
/** Lifetime of the free-space and tag metrics the allocator needs (see clusterPeer). */
const informerMetricTtlSeconds = 6;
const maxPeers = 9;

const defaultPeers = 3;
const peerCounts = Array.from({ length: maxPeers }, (_, i) => i + 1);

/**
 * What JSON Schema can say of the rules between the fields (replication
 * within the peers, min not above max), spelled out per value so that a
 * client generating requests from the schema only makes valid ones.
 */
const replicationRules = [
  ...peerCounts.map((n) => ({
    if: { properties: { peers: { const: n } }, required: ["peers"] },
    then: { properties: { replicationMin: { maximum: n }, replicationMax: { maximum: n } } },
  })),
  {
    if: { not: { required: ["peers"] } },
    then: { properties: { replicationMin: { maximum: defaultPeers }, replicationMax: { maximum: defaultPeers } } },
  },
  ...peerCounts.map((n) => ({
    if: { properties: { replicationMax: { const: n } }, required: ["replicationMax"] },
    then: { properties: { replicationMin: { maximum: n } } },
  })),
  // replicationMax's default is at most 3.
  { if: { not: { required: ["replicationMax"] } }, then: { properties: { replicationMin: { maximum: 3 } } } },
];

const options = optionsObject({
  peers: integerOption(1, maxPeers).default(defaultPeers).meta({ description: "Kubo nodes, each with its cluster peer." }),
  replicationMin: integerOption(1, maxPeers).optional().meta({
    default: 2,
    description: "Peers that must pin each item. Default: the smaller of 2 and replicationMax; at most replicationMax.",
  }),
  replicationMax: integerOption(1, maxPeers)
    .optional()
    .meta({ default: 3, description: "Peers that pin each item at most. Default: the smaller of 3 and peers; at most peers." }),
  publicNetwork: publicNetworkOption,
})
  .superRefine((o, ctx) => {
    for (const field of ["replicationMax", "replicationMin"] as const) {
      const value = o[field];
      if (value !== undefined && value > o.peers)
        ctx.addIssue({ code: "custom", path: [field], message: `must be an integer from 1 to ${o.peers}` });
    }
    const max = o.replicationMax ?? Math.min(3, o.peers);
    if (o.replicationMin !== undefined && o.replicationMin > max)
      ctx.addIssue({ code: "custom", path: ["replicationMin"], message: "must not exceed options.replicationMax" });
  })
  .transform((o): IpfsClusterOptions => {
    const replicationMax = o.replicationMax ?? Math.min(3, o.peers);
    return {
      peers: o.peers,
      replicationMin: o.replicationMin ?? Math.min(2, replicationMax),
      replicationMax,
      publicNetwork: o.publicNetwork,
    };
  })
  .meta({ allOf: replicationRules });

/**
 * ipfs-cluster-ctl against the peer's own REST API, run by a shell in the peer's
 * container. The credentials go in through the environment (the tool reads
 * CLUSTER_CREDENTIALS like --basic-auth): a command line shows in the host's `ps`.
 */
const clusterCtl = 'CLUSTER_CREDENTIALS="$CLUSTER_RESTAPI_BASICAUTHCREDENTIALS" ipfs-cluster-ctl --force-http';

// `retry <command>`: the command tried for up to 2 min. On Kubernetes a task's new pod can have its connections
// refused for several seconds (a NetworkPolicy enforcer admitting it late, slower on a loaded node), longer than the
// Job's own retries; a connection refused must not read as "nothing there" either.
const retryFunction = 'retry() { n=0; until "$@"; do n=$((n + 1)); [ "$n" -lt 60 ] || return 1; sleep 2; done; }';

const peerName = (i: number) => `cluster${i}`;
const kuboName = (i: number) => `ipfs${i}`;

function clusterPeer(ctx: TemplateContext<IpfsClusterOptions>, i: number): ServiceSpec {
  const { options, secrets } = ctx;
  const identity = deriveIdentity(secrets.identitySeed!, i);
  // Each peer bootstraps to the peers before it: adding a peer changes no
  // existing peer's settings, so an update starts only the new ones.
  const earlier = Array.from({ length: i }, (_, j) => j);
  const credentials = `${restApiUser}:${secrets.restApiPassword}`;
  const service: ServiceSpec = {
    image: ctx.images.ipfsCluster,
    environment: {
      CLUSTER_PEERNAME: peerName(i),
      CLUSTER_SECRET: secrets.clusterSecret!,
      CLUSTER_ID: identity.id,
      CLUSTER_PRIVATEKEY: identity.privateKey,
      CLUSTER_PEERADDRESSES: earlier
        .map((j) => `/dns4/${peerName(j)}/tcp/9096/p2p/${deriveIdentity(secrets.identitySeed!, j).id}`)
        .join(","),
      CLUSTER_CRDT_CLUSTERNAME: ctx.project,
      CLUSTER_CRDT_TRUSTEDPEERS: "*",
      CLUSTER_MONITORPINGINTERVAL: "2s",
      // The informers' metrics (free space, tags) live 6 s instead of upstream's
      // 30 s, and a peer pushes them every TTL/2. A peer pushes its first ones
      // as soon as its Kubo node answers, often before the other peers have
      // joined the metrics' pubsub topic (those are lost): with 30 s the next
      // came 15 s later and a new cluster took no pin for that long.
      // A peer publishes its own pubsub messages (metrics, CRDT heads) to every
      // peer on the topic, not only to its gossipsub mesh: a peer joins the mesh
      // at a heartbeat, every 10 s in ipfs-cluster (libp2p's default: 1 s), so
      // a peer that started last got the others' metrics up to 10 s late.
      CLUSTER_PUBSUB_FLOODPUBLISH: "true",
      CLUSTER_DISK_METRICTTL: `${informerMetricTtlSeconds}s`,
      CLUSTER_TAGS_METRICTTL: `${informerMetricTtlSeconds}s`,
      CLUSTER_REPLICATIONFACTORMIN: String(options.replicationMin),
      CLUSTER_REPLICATIONFACTORMAX: String(options.replicationMax),
      // Re-allocate a peer's pins when it is removed or down (upstream default: off).
      CLUSTER_DISABLEREPINNING: "false",
      // A pin that failed (its content unreachable while a node was away) is tried again after this
      // (upstream: 12 min): once the node is back its pins are whole again within a minute or two.
      CLUSTER_PINRECOVERINTERVAL: "1m",
      CLUSTER_IPFSHTTP_NODEMULTIADDRESS: `/dns4/${kuboName(i)}/tcp/5001`,
      CLUSTER_IPFSPROXY_NODEMULTIADDRESS: `/dns4/${kuboName(i)}/tcp/5001`,
      // 0: the peer does not connect its Kubo node to the others' (upstream:
      // 30 s after start): peerKuboNodes does it once, from one side. Every peer
      // dialing every node at once, while peerKuboNodes dialed too, left pairs
      // of nodes connected twice (TCP and QUIC, one each way) whose Bitswap
      // never sent its wants to the other (see peerKuboNodes).
      CLUSTER_IPFSHTTP_CONNECTSWARMSDELAY: "0",
      CLUSTER_RESTAPI_HTTPLISTENMULTIADDRESS: "/ip4/0.0.0.0/tcp/9094",
      CLUSTER_RESTAPI_BASICAUTHCREDENTIALS: credentials,
      CLUSTER_PINSVCAPI_HTTPLISTENMULTIADDRESS: "/ip4/0.0.0.0/tcp/9097",
      CLUSTER_PINSVCAPI_BASICAUTHCREDENTIALS: credentials,
    },
    mounts: [{ source: `${peerName(i)}-data`, target: "/data/ipfs-cluster" }],
    // Started with its Kubo node, not after it: the peer waits for the node's
    // API itself (ipfshttp Connector.run retries every second, and the cluster
    // publishes no metric before it answers), which saves Kubo's health-check
    // round and a container start from every deployment.
    //
    // Healthy = can take a pin: this peer holds valid free-space and tag:group
    // metrics (the balanced allocator's allocate_by) from at least
    // replication-min peers (before that, /add answers "not enough peers").
    // Checked every second: Docker 20.10 has no faster start interval.
    healthCheck: {
      ...healthCheck([
        "CMD-SHELL",
        `for m in freespace tag:group; do n=$(${clusterCtl} --enc json health metrics $m | grep -oE '"valid": ?true' | wc -l); [ "$n" -ge "$CLUSTER_REPLICATIONFACTORMIN" ] || exit 1; done`,
      ]),
      intervalSeconds: 1,
      retries: 60,
    },
    limits: clusterPeerLimits(ctx.size),
    restart: "unless-stopped",
    // Both images have this user and give it /data/ipfs-cluster: started as it,
    // their entry point needs no capability (as root it would chown and su-exec).
    user: "ipfs",
    pidsLimit: 1024,
    // Apart when the machines allow (3 peers on 2 nodes still run).
    spread: { group: "cluster-peers", required: false },
    // The balanced allocator places each pin's copies over tag groups first (allocate_by: tag:group, freespace):
    // one group per machine, so a pin has a copy on every machine while there are enough, and one lost
    // machine leaves copies on the others.
    nodeEnvironment: { CLUSTER_TAGS_TAGS: "group:{node}" },
  };
  // Clients reach the cluster through peer 0; the others stay on the private network.
  if (i === 0) {
    service.ports = [
      { host: ctx.ports.restApi!, container: 9094, hostIp: ctx.publishIp },
      { host: ctx.ports.pinningServiceApi!, container: 9097, hostIp: ctx.publishIp },
    ];
  }
  return service;
}

function build(ctx: TemplateContext<IpfsClusterOptions>): SystemModel {
  const services: Record<string, ServiceSpec> = {};
  const volumes: string[] = [];
  for (let i = 0; i < ctx.options.peers; i++) {
    services[kuboName(i)] = {
      ...kuboService({
        image: ctx.images.kubo,
        size: ctx.size,
        publicNetwork: ctx.options.publicNetwork,
        volume: `${kuboName(i)}-data`,
      }),
      ports: [{ host: ctx.ports[`gateway${i}`]!, container: 8080, hostIp: ctx.publishIp }],
      spread: { group: "kubo-nodes", required: false },
    };
    services[peerName(i)] = clusterPeer(ctx, i);
    volumes.push(`${kuboName(i)}-data`, `${peerName(i)}-data`);
  }
  // Prometheus reaches each node's metrics through this, not the private RPC API.
  services.metrics = metricsProxyService({
    image: ctx.images.postgres,
    upstreams: Object.fromEntries(Array.from({ length: ctx.options.peers }, (_, i) => [kuboName(i), `${kuboName(i)}:5001`])),
    hostPort: ctx.ports.metrics!,
    publishIp: ctx.publishIp,
  });
  // One gateway URL for the cluster that skips a stopped node (gateway-balancer.ts).
  services.gateway = gatewayBalancerService({
    image: ctx.images.postgres,
    upstreams: Object.fromEntries(Array.from({ length: ctx.options.peers }, (_, i) => [kuboName(i), `${kuboName(i)}:8080`])),
    hostPort: ctx.ports.gateway!,
    publishIp: ctx.publishIp,
  });
  return {
    project: ctx.project,
    labels: ctx.labels,
    services,
    volumes,
    files: { [kuboInitFile]: kuboInitScript, [metricsProxyFile]: metricsProxyScript, [gatewayBalancerFile]: gatewayBalancerScript },
    tasks: [removePeersFirst(ctx), peerKuboNodes(ctx.options.peers)],
    beforeUp: [
      // New images (PATCH versions): one node at a time, before `up` would recreate them all at once.
      ...rollingClusterUpgrade({
        nodes: Array.from({ length: ctx.options.peers }, (_, i) => ({ kubo: kuboName(i), peer: peerName(i) })),
        images: { kubo: ctx.images.kubo, peer: ctx.images.ipfsCluster },
        clusterCtl,
        timeoutSeconds: 300,
      }),
    ],
  };
}

/**
 * Connects every Kubo node to every other, then keeps them so (`swarm
 * peering`: reconnects while the daemons run), so any gateway serves what any
 * node holds and a peer's node fetches what another node holds.
 *
 * Each pair is dialed from one side only (node i dials the nodes after it),
 * and the peering entries come after, between connected nodes (peering does
 * not dial a connected peer). Two nodes dialing each other at the same moment
 * (the cluster peers' own swarm connect, mDNS, peering from both sides) could
 * end up connected twice, once each way, with Bitswap on neither connection:
 * `ipfs bitswap wantlist --peer` on the holder empty, no /ipfs/bitswap stream
 * in `swarm peers --streams`, the want pending until the connection was
 * closed and made again (boxo's known peer-connection races). A pin on that
 * node then stayed PINNING until its 2 min timeout.
 *
 * Run in ipfs0's container against every node's RPC API (private network),
 * after each deploy: a restarted node forgets its peering.
 */
function peerKuboNodes(peers: number): SystemTask {
  const nodes = Array.from({ length: peers }, (_, i) => i);
  const api = (i: number) => `ipfs --api /dns4/${kuboName(i)}/tcp/5001`;
  const address = (j: number) => `/dns4/${kuboName(j)}/tcp/4001/p2p/$id${j}`;
  const later = (i: number) => nodes.filter((j) => j > i);
  return {
    name: "peer-kubo-nodes",
    when: "afterUp",
    service: kuboName(0),
    script: [
      "set -eu",
      retryFunction,
      ...nodes.map((i) => `id${i}=$(retry ${api(i)} id -f '<id>')`),
      // Each pair once, from its lower-numbered node.
      ...nodes.filter((i) => later(i).length > 0).map((i) => `retry ${api(i)} swarm connect ${later(i).map(address).join(" ")} >/dev/null`),
      ...nodes.flatMap((i) => nodes.filter((j) => j !== i).map((j) => `retry ${api(i)} swarm peering add ${address(j)} >/dev/null`)),
      `echo "${peers} Kubo nodes peered"`,
    ].join("\n"),
  };
}

/**
 * When an update removes peers, take them out of the cluster while they still
 * run: `peers rm` re-allocates their pins to the remaining peers, which fetch
 * the content from them; wait until nothing is left pinning, then let the
 * target remove them. Which peers: those the cluster lists (live ones) named
 * cluster<i> with i at or past the new count. Run in peer 0's container.
 *
 * With CRDT consensus `peers rm` re-allocates first (Cluster.vacatePeer) and
 * then answers "crdt consensus component cannot remove peers": CRDT has no
 * peer set to edit, the peer leaves when it stops. That answer is expected.
 */
function removePeersFirst(ctx: TemplateContext<IpfsClusterOptions>): SystemTask {
  return {
    name: "remove-peers",
    when: "beforeRemove",
    service: peerName(0),
    script: [
      "set -eu",
      retryFunction,
      `ctl() { ${clusterCtl} --host /dns4/${peerName(0)}/tcp/9094 "$@"; }`,
      "removed=''",
      // `peers ls`: "<id> | <peer name> | Sees n other peers" per peer. Read apart, so its failure stops the task.
      "peers=$(retry ctl peers ls)",
      `for p in $(echo "$peers" | sed -n 's/^\\([A-Za-z0-9]*\\) | cluster\\([0-9]*\\) | .*/\\1:\\2/p'); do`,
      "  id=${p%%:*}; i=${p##*:}",
      `  [ "$i" -ge ${ctx.options.peers} ] || continue`,
      '  echo "taking cluster$i out of the cluster"',
      '  out=$(ctl peers rm "$id" 2>&1) || case "$out" in *"cannot remove peers"*) ;; *) echo "$out" >&2; exit 1 ;; esac',
      "  removed=yes",
      "done",
      'if [ -n "$removed" ]; then',
      "  sleep 3", // the new allocations reach the peers through CRDT broadcasts
      "  i=0",
      "  while :; do",
      "    status=$(retry ctl --enc json status)", // a failed read stops the task, not the wait
      `    echo "$status" | grep -qE '"status": ?"(pinning|pin_queued)"' || break`,
      '    i=$((i + 1)); [ "$i" -lt 300 ] || { echo "pins still moving after 300 s" >&2; exit 1; }',
      "    sleep 1",
      "  done",
      "fi",
    ].join("\n"),
  };
}

export const ipfsClusterSmall: Template<IpfsClusterOptions> = {
  id: "ipfs-cluster-small",
  description: "IPFS Cluster: Kubo nodes with ipfs-cluster peers (CRDT consensus), pins replicated between min and max peers",
  sizes: ipfsClusterSizes,
  defaultSize: "small",
  sizeUnit: "each node: its Kubo node (its cluster peer gets half the CPU and a quarter of the memory; the metrics proxy comes on top)",
  options,
  portNames: (o) => ["restApi", "pinningServiceApi", ...Array.from({ length: o.peers }, (_, i) => `gateway${i}`), "metrics", "gateway"],
  secrets: () => ({ clusterSecret: 32, identitySeed: 32, restApiPassword: 24 }),
  build,
  outputs: (ctx) => ({
    endpoint: {
      restApi: `http://${ctx.publicHost}:${ctx.ports.restApi}`,
      pinningServiceApi: `http://${ctx.publicHost}:${ctx.ports.pinningServiceApi}`,
      // Load-balanced over every node's gateway, skipping a node that does not answer.
      gateway: `http://${ctx.publicHost}:${ctx.ports.gateway}`,
      ...Object.fromEntries(
        Array.from({ length: ctx.options.peers }, (_, i) => [`gateway${i}`, `http://${ctx.publicHost}:${ctx.ports[`gateway${i}`]}`]),
      ),
      // Each node's Prometheus metrics at /ipfs<i>/debug/metrics/prometheus.
      metrics: `http://${ctx.publicHost}:${ctx.ports.metrics}`,
    },
    credentials: { username: restApiUser, password: ctx.secrets.restApiPassword! },
  }),
  // Each node's datastore.
  dataGb: (size, o) => size.storageGb * o.peers,
  healthProbe: "ipfs-cluster",
  // Every node through the metrics proxy (clusters created before it have no `metrics` endpoint: none).
  scrapeTargets(endpoint) {
    const proxy = httpAddress(endpoint.metrics);
    if (!proxy) return [];
    const nodes = Object.keys(endpoint)
      .filter((key) => /^gateway\d+$/.test(key))
      .map((key) => `ipfs${key.slice("gateway".length)}`)
      .sort();
    return nodes.map((node) => ({ address: proxy, node, path: `/${node}${kuboMetricsPath}` }));
  },
};
