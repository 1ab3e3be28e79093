//go:build tools

// Package tools pins the ipfs-cluster commands so `go build` can build them from this module.
package tools

import (
	_ "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-ctl"
	_ "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-service"
)
