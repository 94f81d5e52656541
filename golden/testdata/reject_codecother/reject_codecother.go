// Package reject_codecother has a service for another codec: rpcgen still
// rejects what no codec carries, in the types as written, and leaves the
// fields of named types to that codec.
package reject_codecother

import (
	"context"
	"unsafe"
)

// Job has a channel field: gob, for one, skips such fields.
type Job struct {
	ID   int
	Done chan struct{}
}

// S uses msgpack.
//
//rpcgen:service t.s
//rpcgen:codec msgpack
type S interface {
	Fine(ctx context.Context, j Job, z complex64, m map[Job]int) error
	Chan(ctx context.Context, c chan int) error
	Func(ctx context.Context) (func(), error)
	Deep(ctx context.Context, s []struct{ F func() }) error
	Unsafe(ctx context.Context, p *unsafe.Pointer) error
}
