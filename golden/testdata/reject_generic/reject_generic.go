package reject_generic

import "context"

// S is generic.
//
//rpcgen:service t.s
type S[T any] interface {
	Put(ctx context.Context, v T) error
}
