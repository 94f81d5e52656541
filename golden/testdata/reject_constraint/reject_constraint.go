package reject_constraint

import "context"

// S is a constraint, not an interface values can implement.
//
//rpcgen:service t.s
type S interface {
	~int
	Ping(ctx context.Context) error
}
