package reject_codec

import (
	"context"
	"io"
)

type point struct{ X, Y int }

// S takes values the JSON codec cannot carry.
//
//rpcgen:service t.s
type S interface {
	Complex(ctx context.Context, z complex128) error
	Reader(ctx context.Context, r io.Reader) error
	Err(ctx context.Context) (error, error)
	Keys(ctx context.Context, m map[point]string) error
	Fine(ctx context.Context, m map[int64]string, k map[string][]byte) error
}
