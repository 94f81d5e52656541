package reject_proxyname

import "context"

// S has a proxy with an unexported name.
//
//rpcgen:service t.s
//rpcgen:proxy sessionProxy sid
type S interface {
	Kick(ctx context.Context, sid string) error
}
