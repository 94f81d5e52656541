package reject_directivetypos

import "context"

// S has directive typos and a route that cannot be ASCII.
//
//rpcgen:service t.s
type S interface {
	// Spaced has a space after the colon.
	//
	//rpcgen: method getUser
	Spaced(ctx context.Context) error

	// Capital spells the verb with a capital.
	//
	//rpcgen:Method x
	Capital(ctx context.Context) error

	// Été has no ASCII route segment of its own.
	Été(ctx context.Context) error

	// Named is fine: its route is named explicitly.
	//
	//rpcgen:method summer
	Été2(ctx context.Context) error
}
