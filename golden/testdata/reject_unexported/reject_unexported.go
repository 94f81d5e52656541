package reject_unexported

import "context"

// S has an unexported method.
//
//rpcgen:service t.s
type S interface {
	Public(ctx context.Context) error
	private(ctx context.Context) error
}
