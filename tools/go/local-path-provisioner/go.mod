// Wrapper module: the test cluster's default StorageClass (PVCs on each node's disk).
module provisioner.local/tools/local-path-provisioner

go 1.24.0

require github.com/rancher/local-path-provisioner v0.0.30
