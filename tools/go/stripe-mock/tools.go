//go:build tools

// Package tools pins stripe-mock (Stripe's API mock, with its OpenAPI spec
// embedded) so `go build` can build it from this module for the billing tests.
package tools

import (
	_ "github.com/stripe/stripe-mock"
)
