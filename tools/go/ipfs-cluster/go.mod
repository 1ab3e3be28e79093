// Wrapper module: builds ipfs-cluster-service and ipfs-cluster-ctl from the Go
// module proxy when the official ipfs/ipfs-cluster image cannot be pulled.
module provisioner.local/tools/ipfs-cluster

go 1.25

require github.com/ipfs-cluster/ipfs-cluster v1.1.6
