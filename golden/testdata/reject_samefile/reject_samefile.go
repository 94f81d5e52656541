package reject_samefile

import "context"

// Foo and FOO would share foo_rpc.go.
//
//rpcgen:service t.foo
type Foo interface {
	Ping(ctx context.Context) error
}

// FOO is Foo shouting.
//
//rpcgen:service t.FOO
type FOO interface {
	Ping(ctx context.Context) error
}
