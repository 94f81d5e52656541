package reject_results

import "context"

// S returns too much.
//
//rpcgen:service t.s
type S interface {
	Pair(ctx context.Context) (int, string, error)
}
