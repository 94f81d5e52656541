package reject_overwrite

import "context"

// S would be generated into s_rpc.go, which is hand-written.
//
//rpcgen:service t.s
type S interface {
	Ping(ctx context.Context) error
}
