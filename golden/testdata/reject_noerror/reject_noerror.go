package reject_noerror

import "context"

// S has methods that do not end in error.
//
//rpcgen:service t.s
type S interface {
	Count(ctx context.Context) int
	ErrorFirst(ctx context.Context) (error, string)
	Silent(ctx context.Context)
}
