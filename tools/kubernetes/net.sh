#!/bin/bash
# Two nodes, each a network namespace: k8s-n1 (10.200.0.1) and k8s-n2 (10.200.0.2) joined by a veth pair,
# pod CIDRs 10.244.1.0/24 and 10.244.2.0/24 routed host-gw style. The host reaches both through a second
# veth into n1 (10.201.0.1 <-> 10.201.0.2) and routes to the node and pod networks: the service, the engine
# and the tests run on the host.
set -e
ip netns add k8s-n1; ip netns add k8s-n2
ip link add k8s-v1 type veth peer name k8s-v2
ip link set k8s-v1 netns k8s-n1; ip link set k8s-v2 netns k8s-n2
ip -n k8s-n1 addr add 10.200.0.1/24 dev k8s-v1; ip -n k8s-n2 addr add 10.200.0.2/24 dev k8s-v2
ip link add k8s-host type veth peer name k8s-h1
ip link set k8s-h1 netns k8s-n1
ip addr add 10.201.0.1/30 dev k8s-host; ip -n k8s-n1 addr add 10.201.0.2/30 dev k8s-h1
ip link set k8s-host up; ip -n k8s-n1 link set k8s-h1 up
for i in 1 2; do ip -n k8s-n$i link set lo up; ip -n k8s-n$i link set k8s-v$i up; done
# default routes (kube-proxy and the kubelet want one): n1 -> host, n2 -> n1
ip -n k8s-n1 route add default via 10.201.0.1; ip -n k8s-n2 route add default via 10.200.0.1
ip -n k8s-n1 route add 10.244.2.0/24 via 10.200.0.2; ip -n k8s-n2 route add 10.244.1.0/24 via 10.200.0.1
ip route add 10.200.0.0/24 via 10.201.0.2; ip route add 10.244.0.0/16 via 10.201.0.2
for i in 1 2; do nsenter --net=/run/netns/k8s-n$i -- sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1; done
# cgroup roots for the two kubelets (cgroupfs driver, cgroup v1 hybrid host)
for i in 1 2; do for c in cpu cpuacct cpuset memory devices freezer blkio pids systemd unified; do
  [ -d /sys/fs/cgroup/$c ] && mkdir -p /sys/fs/cgroup/$c/k8s-n$i; done
  cat /sys/fs/cgroup/cpuset/cpuset.cpus > /sys/fs/cgroup/cpuset/k8s-n$i/cpuset.cpus; cat /sys/fs/cgroup/cpuset/cpuset.mems > /sys/fs/cgroup/cpuset/k8s-n$i/cpuset.mems; done
