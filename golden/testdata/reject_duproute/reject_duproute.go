package reject_duproute

import "context"

// S maps two methods to one route.
//
//rpcgen:service t.s
type S interface {
	GetUser(ctx context.Context, id int) (string, error)
	//rpcgen:method getUser
	FetchUser(ctx context.Context, id int) (string, error)
	HTTPGet(ctx context.Context) error
	HttpGet(ctx context.Context) error
}
