// Package testfile has an annotated interface in a test file too, for
// which rpcgen generates nothing and says so.
package testfile

import "context"

// Ping answers.
//
//rpcgen:service t.ping
type Ping interface {
	Ping(ctx context.Context) error
}
