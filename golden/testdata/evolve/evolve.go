// Package evolve is version 2 of a service whose version 1 is written by
// hand in its test: Add gained a trailing parameter, Sum a result, and a
// parameter was renamed. The test runs each version against the other, as
// during a rolling upgrade, to pin down what the README says about evolving
// a service.
package evolve

import "context"

// Calc adds numbers up.
//
//rpcgen:service t.calc
type Calc interface {
	// Add adds amount, times factor; version 1 had no factor, and called
	// amount n.
	Add(ctx context.Context, amount int, factor int) error

	// Sum returns the total; version 1 returned nothing.
	Sum(ctx context.Context) (int, error)
}
