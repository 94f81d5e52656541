package reject_proxyname

import "context"

// S has a proxy with an unexported name.
//
//rpcgen:service t.s
//rpcgen:proxy sessionProxy sid
type S interface {
	Kick(ctx context.Context, sid string) error
}

// T binds a proxy to a blank parameter, which has no name to bind.
//
//rpcgen:service t.t
//rpcgen:proxy BlankProxy _
type T interface {
	Kick(ctx context.Context, _ string) error
}
