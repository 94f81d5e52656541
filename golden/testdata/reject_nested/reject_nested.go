package reject_nested

import (
	"context"
	"unsafe"
)

// Box is generic.
type Box[T any] struct{ V T }

// S hides what cannot be sent inside other types.
//
//rpcgen:service t.s
type S interface {
	Slice(ctx context.Context, cs []chan int) error
	Map(ctx context.Context, m map[string]func()) error
	Struct(ctx context.Context, s struct {
		Name string
		Done chan struct{}
	}) error
	Pointer(ctx context.Context, p *unsafe.Pointer) error
	Array(ctx context.Context) ([2]func(), error)
	TypeArg(ctx context.Context, b Box[chan int]) error
}
