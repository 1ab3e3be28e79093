// The Kubernetes target's test cluster and provider plugin. `KUBECONFIG` names a
// cluster to use; else, for `npm test` on a Linux machine as root, a 2-node
// Kubernetes 1.34 cluster in two network namespaces (tools/kubernetes/), built
// once from the Go module proxy and Debian, started for the command and stopped
// after it. The pulumi-resource-kubernetes plugin matching the pinned
// @pulumi/kubernetes is built from the proxy when it cannot be downloaded.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { probe, runLogged } from "./exec.js";
import { goBuild } from "./go.js";
import { BootstrapError, longStep, say } from "./log.js";
import { cacheDir, logDir, repoRoot } from "./paths.js";

const k8sVersion = "v1.34.4";
const versionFlags = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
  .map((p) => `-X ${p}.gitVersion=${k8sVersion} -X ${p}.gitMajor=1 -X ${p}.gitMinor=34 -X ${p}.gitTreeState=clean`)
  .join(" ");

/** kube-apiserver ... kubectl, from one wrapper module requiring k8s.io/kubernetes and every staging module at v0.34. */
const kubernetesBuild = () =>
  goBuild({
    name: "kubernetes",
    module: "kubernetes",
    binaries: Object.fromEntries(
      ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"].map((c) => [
        c,
        `k8s.io/kubernetes/cmd/${c}`,
      ]),
    ),
    ldflags: `-s -w ${versionFlags}`,
    label: `Building Kubernetes ${k8sVersion} (apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl)`,
  });

const addonBuilds = () => [
  goBuild({
    name: "coredns",
    module: "coredns",
    binaries: { coredns: "github.com/coredns/coredns" },
    ldflags: "-s -w",
    label: "Building CoreDNS",
  }),
  goBuild({
    name: "local-path-provisioner",
    module: "local-path-provisioner",
    binaries: { "local-path-provisioner": "github.com/rancher/local-path-provisioner" },
    ldflags: "-s -w",
    label: "Building local-path-provisioner",
  }),
  goBuild({ name: "pause", module: "pause", binaries: { pause: "." }, ldflags: "-s -w", label: "Building the pod sandbox (pause)" }),
  // NetworkPolicy enforcement beside the bridge CNI (its firewall only): v2.1.0, the one version the proxy serves.
  goBuild({
    name: "kube-router",
    module: "kube-router",
    binaries: { "kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router" },
    ldflags: "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v2.1.0",
    label: "Building kube-router v2.1.0 (the test cluster's NetworkPolicy firewall)",
  }),
];

/** Debian packages the nodes run on. */
const nodePackages = [
  "containerd",
  "runc",
  "containernetworking-plugins",
  "etcd-server",
  "nftables",
  "conntrack",
  "iptables",
  "busybox-static",
  "ipset",
];

/** The plugin version @pulumi/kubernetes asks the engine for. */
export function kubernetesPluginVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", "@pulumi", "kubernetes", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * pulumi-resource-kubernetes: the module zip lacks generated files (schema-embed.json), so the
 * wrapper (tools/go/pulumi-kubernetes) is copied into the cache with the provider module beside it
 * as ./provider (its go.mod replaces the provider with that copy), the provider's own generator
 * run, then the plugin built.
 */
async function buildKubernetesPlugin(version: string): Promise<string> {
  const outDir = path.join(cacheDir, "bin", `pulumi-resource-kubernetes-${version}`);
  const binary = path.join(outDir, "pulumi-resource-kubernetes");
  if (fs.existsSync(binary)) return binary;
  const log = path.join(logDir, "pulumi-resource-kubernetes.log");
  const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod", VERSION: version };
  await longStep(`Building pulumi-resource-kubernetes ${version} from the Go module proxy (first run only; log: ${log})`, async () => {
    const source = path.join(repoRoot, "tools", "go", "pulumi-kubernetes");
    const wrapper = path.join(cacheDir, "src", `pulumi-kubernetes-${version}`);
    fs.rmSync(wrapper, { recursive: true, force: true });
    fs.mkdirSync(wrapper, { recursive: true });
    for (const f of ["go.mod", "go.sum", "tools.go"]) fs.copyFileSync(path.join(source, f), path.join(wrapper, f));
    const gomod = fs.readFileSync(path.join(wrapper, "go.mod"), "utf8");
    const pseudo = /github\.com\/pulumi\/pulumi-kubernetes\/provider\/v4 (v\S+)/.exec(gomod)![1]!;
    const dl = await probe("go", ["mod", "download", "-json", `github.com/pulumi/pulumi-kubernetes/provider/v4@${pseudo}`], 600_000, {
      ...env,
      GOFLAGS: "",
    });
    if (!dl.ok) throw new BootstrapError("go mod download of the Kubernetes provider failed", dl.stdout);
    const provider = path.join(wrapper, "provider");
    fs.cpSync((JSON.parse(dl.stdout) as { Dir: string }).Dir, provider, { recursive: true });
    await runLogged("chmod", ["-R", "u+w", provider], log, { step: "chmod provider" });
    const cmdDir = path.join(provider, "cmd", "pulumi-resource-kubernetes");
    await runLogged("go", ["generate", "./..."], log, { cwd: cmdDir, env, step: "go generate (Kubernetes provider schema)" });
    const tmp = `${outDir}.tmp-${process.pid}`;
    await runLogged(
      "go",
      [
        "build",
        "-trimpath",
        "-ldflags",
        `-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${version}`,
        "-o",
        path.join(tmp, "pulumi-resource-kubernetes"),
        "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes",
      ],
      log,
      { cwd: wrapper, env, step: "go build pulumi-resource-kubernetes" },
    );
    fs.renameSync(tmp, outDir);
    fs.rmSync(wrapper, { recursive: true, force: true });
  });
  return binary;
}

/** Installs the Kubernetes plugin into the engine's plugin cache (official download, else the build). */
export async function ensureKubernetesPlugin(env: NodeJS.ProcessEnv): Promise<void> {
  const version = kubernetesPluginVersion();
  const listed = await probe("pulumi", ["plugin", "ls", "--json"], 30_000, env);
  const plugins = listed.ok ? (JSON.parse(listed.stdout || "[]") as { name: string; kind: string; version: string }[]) : [];
  if (plugins.some((p) => p.kind === "resource" && p.name === "kubernetes" && p.version === version)) {
    say(`pulumi: plugin resource-kubernetes ${version} is installed`);
    return;
  }
  if ((await probe("pulumi", ["plugin", "install", "resource", "kubernetes", version], 180_000, env)).ok) {
    say(`pulumi: installed the official plugin resource-kubernetes ${version}`);
    return;
  }
  say(`pulumi: the official plugin resource-kubernetes ${version} cannot be downloaded; building it`);
  const binary = await buildKubernetesPlugin(version);
  await runLogged(
    "pulumi",
    ["plugin", "install", "resource", "kubernetes", `v${version}`, "--file", binary],
    path.join(logDir, "pulumi-plugins.log"),
    {
      env,
      step: "pulumi plugin install resource-kubernetes",
    },
  );
  say(`pulumi: installed resource-kubernetes ${version} built from the Go module proxy`);
}

/** Where the test cluster keeps its state, logs and pids (outside the repository: one cluster per machine). */
export const clusterDir = path.join(cacheDir, "kubernetes-cluster");
const scriptsDir = path.join(repoRoot, "tools", "kubernetes");

/** The add-on images (FROM scratch) as tarballs; rebuilt when a binary changes. */
async function addonImages(imagesDir: string, bins: { coredns: string; localPath: string; pause: string }): Promise<void> {
  const log = path.join(logDir, "kubernetes-images.log");
  const images: { tag: string; files: Record<string, string>; dockerfile: string }[] = [
    {
      tag: "localhost/pause:1",
      files: { pause: path.join(bins.pause, "pause") },
      dockerfile: 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n',
    },
    {
      tag: "localhost/coredns:1.15.0",
      files: { coredns: path.join(bins.coredns, "coredns") },
      dockerfile: 'FROM scratch\nCOPY coredns /coredns\nENTRYPOINT ["/coredns"]\n',
    },
    {
      tag: "localhost/local-path-provisioner:v0.0.30",
      files: { "local-path-provisioner": path.join(bins.localPath, "local-path-provisioner") },
      dockerfile: "FROM scratch\nCOPY local-path-provisioner /usr/bin/local-path-provisioner\n",
    },
    {
      tag: "localhost/busybox:1",
      files: { busybox: "/bin/busybox" },
      dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n',
    },
  ];
  for (const image of images) {
    const tar = path.join(imagesDir, `${image.tag.replace(/[/:]/g, "_")}.tar`);
    const newest = Math.max(...Object.values(image.files).map((f) => fs.statSync(f).mtimeMs));
    if (fs.existsSync(tar) && fs.statSync(tar).mtimeMs > newest) continue;
    const context = fs.mkdtempSync(path.join(cacheDir, "context-k8s-"));
    try {
      for (const [name, file] of Object.entries(image.files)) fs.copyFileSync(file, path.join(context, name));
      fs.writeFileSync(path.join(context, "Dockerfile"), image.dockerfile);
      await runLogged("docker", ["build", "-t", image.tag, context], log, {
        step: `docker build ${image.tag}`,
        env: { ...process.env, DOCKER_BUILDKIT: "0" },
      });
      await runLogged("docker", ["save", "-o", `${tar}.tmp`, image.tag], log, { step: `docker save ${image.tag}` });
      fs.renameSync(`${tar}.tmp`, tar);
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
  }
}

/** The templates' images (PROVISIONER_IMAGE_*) as tarballs named by image id, for import into the nodes. */
async function templateImages(imagesDir: string, imageEnv: Record<string, string>): Promise<void> {
  const log = path.join(logDir, "kubernetes-images.log");
  const wanted = new Set<string>();
  for (const ref of new Set(Object.values(imageEnv))) {
    const id = await probe("docker", ["image", "inspect", "--format", "{{.Id}}", ref], 20_000);
    if (!id.ok) throw new BootstrapError(`image ${ref} is not in the Docker engine`);
    const tar = `template-${id.stdout.trim().replace("sha256:", "").slice(0, 16)}.tar`;
    wanted.add(tar);
    if (fs.existsSync(path.join(imagesDir, tar))) continue;
    await runLogged("docker", ["save", "-o", path.join(imagesDir, `${tar}.tmp`), ref], log, { step: `docker save ${ref}` });
    fs.renameSync(path.join(imagesDir, `${tar}.tmp`), path.join(imagesDir, tar));
  }
  // An image rebuilt since: its old tarball goes.
  for (const f of fs.readdirSync(imagesDir))
    if (f.startsWith("template-") && !wanted.has(f)) fs.rmSync(path.join(imagesDir, f), { force: true });
}

/**
 * The numeric ids of the users the templates name, in the images this machine
 * runs (Kubernetes runs a container as a uid): PROVISIONER_KUBERNETES_USER_IDS.
 */
export async function imageUserIds(imageEnv: Record<string, string>): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const [user, envVar] of [
    ["postgres", "PROVISIONER_IMAGE_POSTGRES"],
    ["ipfs", "PROVISIONER_IMAGE_KUBO"],
  ] as const) {
    const image = imageEnv[envVar];
    if (!image) continue;
    const id = await probe("docker", ["run", "--rm", "--entrypoint", "id", image, "-u", user], 60_000);
    if (id.ok) ids[user] = Number(id.stdout.trim());
  }
  return ids;
}

export interface KubernetesCluster {
  /** The kubeconfig the service and tests use. */
  kubeconfig: string;
  /** Address clients reach NodePorts on. */
  publicHost: string;
  /** Where kubectl is, for the tests (a cluster of KUBECONFIG: kubectl on PATH). */
  binDir?: string;
  /** `<script> cut|restore n2`: takes a node off the network and back (the local cluster only). */
  nodeControl?: string;
  /** `<script> start|stop`: NetworkPolicy enforcement (kube-router's firewall; on from the start) (the local cluster only). */
  firewall?: string;
  /** Set when this command started the cluster: it stops it when it ends. */
  stop?: () => Promise<void>;
}

/** tools/kubernetes/firewall.sh with this cluster's state and kube-router build: a command of one file for the tests. */
function firewallCommand(kubeRouter: string): string {
  fs.mkdirSync(clusterDir, { recursive: true });
  const file = path.join(clusterDir, "firewall");
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const script = `#!/bin/sh\nK8S_DIR=${q(clusterDir)} K8S_KUBE_ROUTER=${q(kubeRouter)} exec ${q(path.join(scriptsDir, "firewall.sh"))} "$@"\n`;
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}

function runScript(script: string, env: NodeJS.ProcessEnv, log: string): Promise<number> {
  return new Promise((resolve) => {
    const out = fs.openSync(log, "a");
    const child = spawn(path.join(scriptsDir, script), [], { env, stdio: ["ignore", out, out] });
    child.on("exit", (code) => {
      fs.closeSync(out);
      resolve(code ?? 1);
    });
  });
}

/**
 * The cluster for the Kubernetes target's tests: KUBECONFIG's, else the local
 * 2-node cluster (built on first use, started now, stopped by `stop`).
 */
export async function ensureKubernetesCluster(imageEnv: Record<string, string>): Promise<KubernetesCluster> {
  if (process.env.KUBECONFIG) {
    say(`kubernetes: using the cluster of KUBECONFIG (${process.env.KUBECONFIG})`);
    return { kubeconfig: process.env.KUBECONFIG, publicHost: process.env.PROVISIONER_KUBERNETES_PUBLIC_HOST ?? "127.0.0.1" };
  }
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    throw new BootstrapError(
      "kubernetes: the Kubernetes target's tests need a cluster: set KUBECONFIG, or run as root on Linux to start the local 2-node cluster",
    );
  await ensureDebianPackages(nodePackages, "the local Kubernetes test cluster");
  const [kube, coredns, localPath, pause, kubeRouter] = await Promise.all([kubernetesBuild(), ...addonBuilds()]);
  const imagesDir = path.join(cacheDir, "kubernetes-images");
  fs.mkdirSync(imagesDir, { recursive: true });
  await addonImages(imagesDir, { coredns: coredns!, localPath: localPath!, pause: pause! });
  await templateImages(imagesDir, imageEnv);
  const env = { ...process.env, K8S_DIR: clusterDir, K8S_BIN: kube, K8S_IMAGES: imagesDir };
  const firewall = firewallCommand(kubeRouter!);
  const log = path.join(logDir, "kubernetes-cluster.log");
  fs.mkdirSync(clusterDir, { recursive: true });
  const kubeconfig = path.join(clusterDir, "pki", "admin.kubeconfig");
  const already = await probe(path.join(kube, "kubectl"), ["--kubeconfig", kubeconfig, "get", "--raw=/readyz"], 10_000);
  if (already.ok) {
    say("kubernetes: the local 2-node cluster is running already (another command's): using it");
    if (!(await probe(firewall, ["start"], 120_000)).ok) say("kubernetes: warning: NetworkPolicy enforcement (kube-router) did not start");
    return { kubeconfig, publicHost: "10.200.0.1", binDir: kube, nodeControl: path.join(scriptsDir, "node.sh"), firewall };
  }
  const code = await longStep(`kubernetes: starting the local 2-node cluster (log: ${log})`, () => runScript("up.sh", env, log));
  // NetworkPolicy enforced for every test, as on an operator's cluster with an enforcing network plugin.
  const enforced = code === 0 && (await probe(firewall, ["start"], 120_000)).ok;
  if (!enforced) {
    await runScript("down.sh", env, log);
    throw new BootstrapError(
      code === 0
        ? "kubernetes: NetworkPolicy enforcement (kube-router) did not start"
        : `kubernetes: the local cluster did not start (exit ${code})`,
      `See ${log} and ${path.join(clusterDir, "logs")}`,
    );
  }
  say("kubernetes: NetworkPolicy enforced (kube-router's firewall)");
  return {
    kubeconfig,
    publicHost: "10.200.0.1",
    binDir: kube,
    nodeControl: path.join(scriptsDir, "node.sh"),
    firewall,
    stop: async () => {
      await runScript("down.sh", env, log);
    },
  };
}
