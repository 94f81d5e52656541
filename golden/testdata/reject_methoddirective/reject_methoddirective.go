package reject_methoddirective

import "context"

// S has malformed method directives.
//
//rpcgen:service t.s
type S interface {
	//rpcgen:method a.b
	Dotted(ctx context.Context) error
	//rpcgen:method
	Empty(ctx context.Context) error
	//rpcgen:proxy P id
	Misplaced(ctx context.Context, id int) error
}

// Plain is no service and not embedded in one.
type Plain interface {
	//rpcgen:method lost
	Lost(ctx context.Context) error
}
