#!/bin/sh
# Entry point with the ipfs/ipfs-cluster image's contract: `init` with the
# chosen consensus and datastore on first start, then `ipfs-cluster-service "$@"`.
# CLUSTER_* environment variables override service.json on every start.
set -e
if [ ! -f "$IPFS_CLUSTER_PATH/service.json" ]; then
  ipfs-cluster-service init --consensus "$IPFS_CLUSTER_CONSENSUS" --datastore "$IPFS_CLUSTER_DATASTORE"
fi
exec ipfs-cluster-service "$@"
