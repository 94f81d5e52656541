package reject_badservice

import "context"

// S names no namespace.
//
//rpcgen:service sessionRemote
type S interface {
	Ping(ctx context.Context) error
}

// T names too many parts.
//
//rpcgen:service a.b.c
type T interface {
	Ping(ctx context.Context) error
}

// U has a proxy and no service.
//
//rpcgen:proxy UProxy id
type U interface {
	Ping(ctx context.Context, id int) error
}

// V has an unknown directive, and one for methods.
//
//rpcgen:service a.v
//rpcgen:serve a.v
//rpcgen:method ping
type V interface {
	Ping(ctx context.Context) error
}

// W is not an interface.
//
//rpcgen:service a.w
type W struct{}

// The blank interface has no name to call it by.
//
//rpcgen:service a.blank
type _ interface {
	Ping(ctx context.Context) error
}
