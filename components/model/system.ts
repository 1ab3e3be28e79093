// A template's system described as data: the services to run and what the
// resource exposes. Pure types; the targets turn them into running containers.

export interface PortMapping {
  /** Port on the host, from the allocation the caller passed in. */
  host: number;
  container: number;
  protocol?: "tcp" | "udp";
  /** Address to publish on; "0.0.0.0" for every interface. */
  hostIp: string;
}

export interface Mount {
  /**
   * A named volume of the system, a file of the system (`file:` + its name), or
   * a folder of the host (`host:` + its absolute path) that outlives the
   * system: teardown removes volumes, never host folders (the backup store).
   */
  source: string;
  target: string;
  readOnly?: boolean;
  /**
   * A folder inside the named volume. Only the Kubernetes renderer makes such
   * mounts (its backup store is a claim where the Docker host has a folder);
   * Compose refuses them.
   */
  subPath?: string;
}

/** The named volume a target without host folders (Kubernetes) keeps a resource's backup store in. */
export const backupStoreVolume = "backup-store";
/** Where, on such a target, the services a scheduled backup depends on (the server) see the whole store, read-only. */
export const backupStoreReadPath = "/backup-store";

export interface HealthCheck {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface ServiceSpec {
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: PortMapping[];
  mounts?: Mount[];
  healthCheck?: HealthCheck;
  /** Services that must be healthy (or just started, without a health check) first. */
  dependsOn?: string[];
  limits: { cpus: number; memoryMb: number };
  restart: "unless-stopped" | "on-failure" | "no";
  /**
   * User (name or uid[:gid]) the container starts as. Unset: the image's
   * default, which is root for images whose entry point drops privileges itself.
   */
  user?: string;
  /**
   * Linux capabilities the container keeps; every other one is dropped
   * (Compose `cap_drop: [ALL]`). Only what the image's entry point needs when
   * it starts as root (chown, then a switch of user).
   */
  capabilities?: string[];
  /** Most processes and threads the container may run. Default: defaultPidsLimit. */
  pidsLimit?: number;
  /** Open files (soft and hard) of the container's processes, when the engine's default is not enough (a pooler's clients). */
  nofile?: number;
  /** Size of the container's /dev/shm in MB (Docker's default: 64). */
  shmMb?: number;
  /**
   * A helper small enough to live in the host's reserve (the metrics proxy):
   * cloud server sizing leaves it out, so it never moves a system to a larger
   * server type. Quotas still count it.
   */
  hostOverhead?: boolean;
  /**
   * Services that are copies of one another (a primary and its replica, a
   * cluster's peers): a target with several machines keeps them apart,
   * always (`required`) or when it can.
   */
  spread?: { group: string; required: boolean };
  /**
   * Environment values naming the machine the service runs on: `{node}` in
   * a value becomes its name (Kubernetes: the pod's node), so copies can tell
   * which share a machine. A target of one machine leaves them out.
   */
  nodeEnvironment?: Record<string, string>;
  /**
   * A service that does its work on a schedule (a backup): once a day at
   * `dailyAtUtc` (HH:MM), or every `everyMinutes` when set, `command` (in
   * place of the service's own) does one run; `afterDeploy`, run once after
   * each deploy, does the first run (and nothing once there was one). A
   * target with a scheduler runs them so (Kubernetes: a CronJob and a Job); a
   * Docker host runs the service as it is, which keeps the schedule itself.
   */
  schedule?: { dailyAtUtc: string; everyMinutes?: number; command: string[]; afterDeploy?: string[] };
  /**
   * A shell command run in the container (if it is running) before the
   * project is taken down: the final backup of a database. Its failure is
   * reported and does not stop the teardown.
   */
  beforeDown?: string;
}

export interface SystemModel {
  /** Compose project name: unique per resource, a DNS label. */
  project: string;
  /** Labels put on every container, volume and network. */
  labels: Record<string, string>;
  services: Record<string, ServiceSpec>;
  volumes: string[];
  /**
   * Each volume's size in MB (see volume-quota.ts): set, the deploy creates the
   * volumes itself (limited where the host allows) and Compose uses them as
   * external volumes. Unset: Compose creates plain volumes.
   */
  volumeSizesMb?: Record<string, number>;
  /** Small configuration files mounted into services (name → content). */
  files: Record<string, string>;
  /**
   * Shell commands run on the host before each `up`, with $PROJECT set: how a
   * template prepares an update (e.g. takes peers out of a cluster before
   * their containers are removed). Must be idempotent.
   */
  beforeUp?: string[];
  /** Shell commands run on the host once every container is healthy, with $PROJECT set. */
  afterUp?: string[];
  /** What the system runs in its own services' containers during a deploy, on any target (SystemTask). */
  tasks?: SystemTask[];
}

/**
 * A script the system runs in one of its services' containers during a
 * deploy, whatever the target: a Docker host `docker exec`s it into the
 * running container; Kubernetes runs it as a Job of the service's image, user
 * and environment in the system's namespace. So it reaches services by their
 * names (never localhost), holds no secret (it reads them from the service's
 * environment) and is idempotent.
 */
export interface SystemTask {
  /** A DNS label: the Job's name on Kubernetes starts with it. */
  name: string;
  /**
   * `beforeRemove`: before any service an update removes is stopped, while
   * the others run (a Docker host: before `up`, when the service's container
   * runs; Kubernetes: once the updated workloads are ready, before the
   * removed ones are deleted). `afterUp`: once every service is healthy.
   */
  when: "beforeRemove" | "afterUp";
  /** The service whose container (image, user, environment) runs it. */
  service: string;
  /** POSIX sh. */
  script: string;
}
