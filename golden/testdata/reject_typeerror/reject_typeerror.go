package reject_typeerror

import "context"

// S uses a type that does not exist.
//
//rpcgen:service t.s
type S interface {
	Get(ctx context.Context, id Missing) error
	Ok(ctx context.Context) error
}
