//go:build tools

// Package tools pins the Kubo command so `go build` can build it from this module.
package tools

import _ "github.com/ipfs/kubo/cmd/ipfs"
