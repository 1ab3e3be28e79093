#!/bin/bash
# Imports every image tarball of K8S_IMAGES into both nodes' containerd (no registry): pods use imagePullPolicy IfNotPresent.
# The two nodes import at once (each its own containerd): the unpacking is what takes the time.
set -euo pipefail
: "${K8S_DIR:?}" "${K8S_IMAGES:?}"
pids=()
for i in 1 2; do
  ( for t in "$K8S_IMAGES"/*.tar; do ctr -a "$K8S_DIR/n$i/containerd.sock" -n k8s.io images import "$t" >/dev/null; done ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
