#!/bin/bash
# Usage: K8S_DIR=... node-config.sh NAME IP PODSUBNET -> writes $K8S_DIR/NAME/{containerd.toml,cni/10-bridge.conflist,kubelet.yaml,kube-proxy.yaml}
set -euo pipefail
N=$1 IP=$2 SUB=$3
D=$K8S_DIR/$N; P=$K8S_DIR/pki
mkdir -p $D/cni $D/containerd $D/kubelet $D/podlogs $D/runc $D/cni-ipam
cat > $D/containerd.toml <<EOC
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$D/containerd.sock"
[ttrpc]
  address = "$D/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:1"
  # this VM lacks CAP_SYS_RESOURCE: do not ask runc for negative oom_score_adj (pause = -998 by default)
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "$D/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni"
EOC
cat > $D/cni/10-bridge.conflist <<EOC
{
  "cniVersion": "1.0.0",
  "name": "k8s-$N",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$D/cni-ipam", "ranges": [[{"subnet": "$SUB"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOC
cat > $D/kubelet.yaml <<EOC
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /k8s-$N
containerRuntimeEndpoint: unix://$D/containerd.sock
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
failSwapOn: false
failCgroupV1: false
podLogsDir: $D/podlogs
resolvConf: /etc/resolv.conf
podCIDR: $SUB
evictionHard: {memory.available: "200Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
EOC
cat > $D/kube-proxy.yaml <<EOC
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $P/kube-proxy.kubeconfig}
mode: ${PROXY_MODE:-iptables}
clusterCIDR: 10.244.0.0/16
hostnameOverride: $N
bindAddress: $IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOC
echo wrote $D
