package reject_proxyclash

import "context"

// SClient is declared by hand, where rpcgen would generate it.
type SClient struct{}

// S has proxies whose names clash.
//
//rpcgen:service t.s
//rpcgen:proxy NewSClient sid
//rpcgen:proxy Bound sid
//rpcgen:proxy Bound sid
type S interface {
	Kick(ctx context.Context, sid string) error
}
