// Package remote declares interfaces that services in other packages embed.
package remote

import "context"

// Pinger answers pings.
type Pinger interface {
	// Ping answers a ping. This doc is not visible to the embedding package's
	// generator, which loads this package from export data.
	Ping(ctx context.Context, n int) (int, error)
}

// Closer closes.
type Closer interface {
	Pinger
	Close(ctx context.Context) error
}
