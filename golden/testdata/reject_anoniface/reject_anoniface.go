package reject_anoniface

import "context"

// S sends an interface the receiver cannot decode into.
//
//rpcgen:service t.s
type S interface {
	Show(ctx context.Context, v interface{ String() string }) error
	Many(ctx context.Context, vs []interface{ Len() int }) error
}
