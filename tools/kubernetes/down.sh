#!/bin/bash
# Stops everything up.sh started (by recorded pid), removes the pods' containers, the namespaces, routes, cgroups and state.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for n in kube-router-n1 kube-router-n2 kube-proxy-n1 kube-proxy-n2 kubelet-n1 kubelet-n2; do stopp $n; done; sleep 1
for i in 1 2; do S=$K8S_DIR/n$i/containerd.sock; [ -S $S ] || continue
  for c in $(ctr -a $S -n k8s.io tasks ls -q 2>/dev/null); do ctr -a $S -n k8s.io tasks kill -s KILL $c >/dev/null 2>&1; done; sleep 1
  for c in $(ctr -a $S -n k8s.io tasks ls -q 2>/dev/null); do ctr -a $S -n k8s.io tasks delete -f $c >/dev/null 2>&1; done
  for c in $(ctr -a $S -n k8s.io containers ls -q 2>/dev/null); do ctr -a $S -n k8s.io containers delete $c >/dev/null 2>&1; done
done
# the API server before etcd: without it, its shutdown waits on etcd forever
for n in kube-scheduler kube-controller-manager kube-apiserver containerd-n1 containerd-n2 etcd; do stopp $n; done
# leftover shims (children of this cluster's containerd instances) name their socket in -address
for p in $(pgrep -f "containerd-shim-runc-v2 -namespace k8s.io -address $K8S_DIR/"); do kill $p 2>/dev/null; done
for m in $(grep -E " $K8S_DIR/n[12]/" /proc/mounts | awk '{print $2}' | sort -r); do umount -l $m 2>/dev/null; done
for m in $(grep -E ' /run/netns/cni-' /proc/mounts | awk '{print $2}'); do
  # pod sandboxes' namespaces left by the killed tasks: only those no process uses any more
  n=$(basename $m); [ -z "$(ip netns pids $n 2>/dev/null)" ] && ip netns del $n 2>/dev/null; done
ip route del 10.200.0.0/24 via 10.201.0.2 2>/dev/null; ip route del 10.244.0.0/16 via 10.201.0.2 2>/dev/null
ip link del k8s-host 2>/dev/null
ip netns del k8s-n1 2>/dev/null; ip netns del k8s-n2 2>/dev/null
for i in 1 2; do for c in cpu cpuacct cpuset memory devices freezer blkio pids systemd unified; do
  [ -d /sys/fs/cgroup/$c/k8s-n$i ] && find /sys/fs/cgroup/$c/k8s-n$i -depth -type d -exec rmdir {} \; 2>/dev/null; done; done
rm -rf "$K8S_DIR"/n1 "$K8S_DIR"/n2 "$K8S_DIR"/etcd-data "$K8S_DIR"/pki "$K8S_DIR"/local-path-default
echo down
