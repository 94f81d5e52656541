package reject_unsafe

import (
	"context"
	"unsafe"
)

// S sends raw pointers.
//
//rpcgen:service t.s
type S interface {
	Peek(ctx context.Context, p unsafe.Pointer) error
}
