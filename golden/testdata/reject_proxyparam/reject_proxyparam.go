package reject_proxyparam

import "context"

// S has a proxy whose parameter never comes first.
//
//rpcgen:service t.s
//rpcgen:proxy UserProxy uid
type S interface {
	Bind(ctx context.Context, sid int64, uid string) error
}
