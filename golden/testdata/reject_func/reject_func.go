package reject_func

import "context"

// Callback is a named function type.
type Callback func(string)

// S sends functions.
//
//rpcgen:service t.s
type S interface {
	Each(ctx context.Context, f func(int) bool) error
	Later(ctx context.Context) (func(), error)
	Subscribe(ctx context.Context, cb Callback) error
}
