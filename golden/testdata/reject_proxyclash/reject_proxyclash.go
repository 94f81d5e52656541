package reject_proxyclash

import "context"

// SClient is declared by hand, where rpcgen would generate it.
type SClient struct{}

// _S_Get_Call is declared by hand, where rpcgen would generate it.
type _S_Get_Call struct{}

// S has proxies whose names clash.
//
//rpcgen:service t.s
//rpcgen:proxy NewSClient sid
//rpcgen:proxy Bound sid
//rpcgen:proxy Bound sid
type S interface {
	Kick(ctx context.Context, sid string) error
	Get(ctx context.Context, sid string) (string, error)
}
