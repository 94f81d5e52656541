// Package multi declares several services, in a grouped declaration too,
// and interfaces that are not services.
package multi

import (
	"context"
	"time"
)

type (
	// Clock tells the time.
	//
	//rpcgen:service sys.clock
	Clock interface {
		// Now returns the server's time.
		Now(ctx context.Context) (time.Time, error)
	}

	// Plain is not a service.
	Plain interface {
		Do(ctx context.Context) error
	}
)

// Health reports health.
//
//rpcgen:service sys.health
type Health interface {
	// Check returns nil when the server is healthy.
	Check(ctx context.Context) error
	// Status describes the server.
	Status(ctx context.Context) (map[string]string, error)
}

// Local is not a service either.
type Local interface {
	Work(int) bool
}
