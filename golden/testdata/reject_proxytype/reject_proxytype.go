package reject_proxytype

import "context"

// S has a proxy parameter of two types.
//
//rpcgen:service t.s
//rpcgen:proxy SessionProxy sid
type S interface {
	Bind(ctx context.Context, sid int64, uid string) error
	Kick(ctx context.Context, sid string) error
}
