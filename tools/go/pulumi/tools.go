//go:build tools

// Package tools pins the Pulumi CLI so `go build` can build it from this module
// when `pulumi` is not on PATH and its download is unreachable.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
