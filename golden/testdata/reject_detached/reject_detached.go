// Package reject_detached has rpcgen directives where rpcgen does not read
// them, each of which would otherwise do nothing at all.
package reject_detached

import "context"

// Blank is separated from its directive by a blank line.
//
//rpcgen:service t.blank

type Blank interface {
	M(ctx context.Context) error
}

//rpcgen:service t.above

// Above has its doc comment between the directive and the type.
type Above interface {
	M(ctx context.Context) error
}

// Grouped types carry their doc comments inside the parentheses.
//
//rpcgen:service t.grouped
type (
	Grouped interface {
		M(ctx context.Context) error
	}
)

// F is no type.
//
//rpcgen:service t.f
func F() {}

// Trailing has a directive after a method.
//
//rpcgen:service t.trailing
type Trailing interface {
	M(ctx context.Context) error //rpcgen:method m2
}

// Embedder has a directive on an embedded interface.
//
//rpcgen:service t.embedder
type Embedder interface {
	//rpcgen:method n
	Trailing
}

func local() {
	// Local is declared in a function.
	//
	//rpcgen:service t.local
	type Local interface {
		M(ctx context.Context) error
	}
}
