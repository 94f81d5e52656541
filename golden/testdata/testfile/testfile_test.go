package testfile

import "context"

// Fake would be a service for tests: rpcgen loads no test files.
//
//rpcgen:service t.fake
type Fake interface {
	Fake(ctx context.Context) error
}
