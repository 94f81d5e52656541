// Package kinds sends every kind of type the codec can carry.
package kinds

import (
	"context"
	"encoding/json"
	"time"
)

// Point is a local named type.
type Point struct{ X, Y int }

// Kinds takes and returns many kinds of types.
//
//rpcgen:service test.kinds
type Kinds interface {
	// Maps takes maps.
	Maps(ctx context.Context, m map[string]int, mm map[int][]*Point, nested map[string]map[int][]string) (map[int64]bool, error)
	// Arrays takes arrays.
	Arrays(ctx context.Context, a [4]byte, grid [3][3]rune, ps [2]*Point) ([16]uint8, error)
	// Pointers takes pointers.
	Pointers(ctx context.Context, p *Point, pp **Point, ps []*Point) (*[]Point, error)
	// Dynamic takes dynamic values.
	Dynamic(ctx context.Context, v any, e interface{}, raw json.RawMessage, vs []any) (json.RawMessage, error)
	// Basics takes basic types.
	Basics(ctx context.Context, b bool, i8 int8, u uint, f float64, s string, bs []byte, r rune, d time.Duration, up uintptr) (float32, error)
}
