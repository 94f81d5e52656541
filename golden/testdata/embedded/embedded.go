// Package embedded has a service made of embedded interfaces, from another
// package and from this one.
package embedded

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/embedded/remote"
)

// Named is embedded from this package; its doc comments and directives are
// read from the syntax.
type Named interface {
	// Name returns the name of the server.
	//
	//rpcgen:method whoAmI
	Name(ctx context.Context) (string, error)
}

// Node is the service every node offers.
//
//rpcgen:service sys.node
type Node interface {
	remote.Closer
	Named
	// Zap is declared here.
	Zap(ctx context.Context) error
}
