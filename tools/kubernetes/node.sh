#!/bin/bash
# Usage: node.sh cut|restore n2 — takes a worker node off the network for real, and back: every packet in or out of
# its link to the rest of the cluster (and so to the host) is dropped, in a table of its own in the node's network
# namespace (kube-proxy's rules are elsewhere). Its kubelet can no longer reach the API server and nothing reaches its
# pods, while its processes and containers keep running, as on a machine whose network failed. n1 (the control plane)
# is not cut: the cluster would have no API server left.
set -euo pipefail
ACTION=${1:?cut or restore}; NODE=${2:?node}
[ "$NODE" = n2 ] || { echo "only n2 can be cut (n1 runs the control plane)" >&2; exit 2; }
NS=/run/netns/k8s-$NODE; LINK=k8s-v2
case $ACTION in
  cut)
    nsenter --net=$NS -- nft -f - <<NFT
table inet provisioner-node-cut {
  chain in { type filter hook prerouting priority -400; policy accept; iifname "$LINK" drop; }
  chain out { type filter hook postrouting priority 400; policy accept; oifname "$LINK" drop; }
  chain local-out { type filter hook output priority -400; policy accept; oifname "$LINK" drop; }
}
NFT
    echo "$NODE cut off" ;;
  restore)
    nsenter --net=$NS -- nft delete table inet provisioner-node-cut 2>/dev/null || true
    echo "$NODE back" ;;
  *) echo "cut or restore" >&2; exit 2 ;;
esac
