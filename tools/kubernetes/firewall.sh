#!/bin/bash
# Usage: firewall.sh start|stop — NetworkPolicy enforcement on the test cluster (the bootstrap starts it with the
# cluster). The bridge CNI ignores NetworkPolicy; kube-router's firewall alone (no routing, no service proxy)
# enforces it beside it, with iptables and ipset in each node's namespace, one process per node. It admits a new
# pod's traffic about a second after the pod starts (the pod's address joins the policies' sets then): the
# target's Jobs try a failed run again in the same pod (restartPolicy OnFailure), whose address is admitted by
# then. `stop` removes its chains and sets: the cluster is the plain bridge again.
# It reads the API as the cluster's administrator (the admin kubeconfig: this cluster is the tests' own).
# Needs K8S_DIR, K8S_KUBE_ROUTER (kube-router v2.1.0: tools/go/kube-router).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; P=$K8S_DIR/pki
in_node() { local i=$1; shift; nsenter --net=/run/netns/k8s-n$i -- "$@"; }
case ${1:?start or stop} in
  start)
    for i in 1 2; do running kube-router-n$i && continue
      start kube-router-n$i k8s-n$i "$K8S_KUBE_ROUTER/kube-router" --run-firewall=true --run-router=false --run-service-proxy=false \
        --kubeconfig=$P/admin.kubeconfig --hostname-override=n$i --service-cluster-ip-range=10.96.0.0/12 --service-node-port-range=19000-32767 \
        --metrics-port=0 --health-port=0
    done
    # Its chains in both nodes' FORWARD, then one full sync of the policies there are: from then on pods are policed.
    for i in 1 2; do j=0; until in_node $i iptables -S FORWARD 2>/dev/null | grep -q -- "-j KUBE-ROUTER-FORWARD"; do
      running kube-router-n$i && [ $j -lt 120 ] || { echo "kube-router on n$i not ready: see $K8S_DIR/logs/kube-router-n$i.log" >&2; exit 1; }
      sleep 0.5; j=$((j+1)); done; done
    echo "NetworkPolicy enforced (kube-router)" ;;
  stop)
    for i in 1 2; do stopp kube-router-n$i
      [ -e /run/netns/k8s-n$i ] || continue
      # kube-router v2.1.0's own --cleanup-config panics here: its jumps, chains and sets are removed by name.
      for c in INPUT FORWARD OUTPUT; do
        in_node $i iptables -S $c | grep -- "-j KUBE-ROUTER-" | sed 's/^-A/-D/' | while read -r rule; do eval in_node $i iptables $rule; done
      done
      chains=$(in_node $i iptables -S | awk '/^-N (KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-)/ {print $2}')
      for c in $chains; do in_node $i iptables -F $c; done
      for c in $chains; do in_node $i iptables -X $c; done
      for s in $(in_node $i ipset list -n | grep -E '^KUBE-(SRC|DST)-' || true); do in_node $i ipset destroy $s; done
    done
    echo "NetworkPolicy not enforced" ;;
  *) echo "start or stop" >&2; exit 2 ;;
esac
