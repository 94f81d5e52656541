package reject_noctx

import "context"

// S takes no context first.
//
//rpcgen:service t.s
type S interface {
	Ok(ctx context.Context) error
	// NoCtx starts with a string.
	NoCtx(id string, ctx context.Context) error
	Nothing() error
}
