package reject_chan

import "context"

// S sends channels.
//
//rpcgen:service t.s
type S interface {
	Send(ctx context.Context, c chan int) error
	Recv(ctx context.Context) (<-chan string, error)
}
