// Package reject_deep hides what the JSON codec cannot carry in the fields
// of named structs, where only a check of every field finds it.
package reject_deep

import (
	"context"
	"fmt"
)

// Point is a struct: no map key for encoding/json.
type Point struct{ X, Y int }

// Grid has a map keyed by Point and an interface field.
type Grid struct {
	Cells map[Point]int
	Label fmt.Stringer
}

// Msg carries a channel.
type Msg struct{ Done chan bool }

// hidden has no exported field: it would travel as {}.
type hidden struct{ x, y int }

// Tree is recursive, and carries a function.
type Tree struct {
	Kids []*Tree
	Fn   func()
}

// Base has an error field, which Outer promotes.
type Base struct{ Err error }

// Outer embeds Base.
type Outer struct {
	Base
	Name string
}

type inner struct{ X int }

// Ptr promotes X through an embedded pointer to an unexported struct type.
type Ptr struct{ *inner }

// Encoder marshals itself but cannot unmarshal: decoding looks at its
// fields, and it has no exported one.
type Encoder struct{ v int }

// MarshalJSON encodes e.
func (e Encoder) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

// HalfKey has MarshalText but no UnmarshalText.
type HalfKey struct{ a, b int }

// MarshalText encodes k.
func (k HalfKey) MarshalText() ([]byte, error) { return []byte("k"), nil }

// PtrMarshal marshals itself through a pointer receiver only, which
// encoding/json does not use for a map value.
type PtrMarshal struct{ v int }

// MarshalJSON encodes p.
func (p *PtrMarshal) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

// UnmarshalJSON decodes p.
func (p *PtrMarshal) UnmarshalJSON([]byte) error { return nil }

// Table nests its problem two structs down.
type Table struct{ Rows []Row }

// Row has Point keys.
type Row struct{ Cells map[Point]int }

// Box is generic.
type Box[T any] struct{ V T }

// Wave has a complex number.
type Wave struct{ Z complex64 }

// Room rejects all of them, each with the path to what cannot travel.
//
//rpcgen:service t.room
type Room interface {
	Join(ctx context.Context, p Grid) error
	Send(ctx context.Context, m Msg) error
	Hidden(ctx context.Context, h hidden) error
	Tree(ctx context.Context) (*Tree, error)
	Promoted(ctx context.Context, o Outer) error
	Pointer(ctx context.Context, p Ptr) error
	Encode(ctx context.Context, e Encoder) error
	Keys(ctx context.Context, m map[HalfKey]int) error
	MapValue(ctx context.Context, m map[string]PtrMarshal) error
	Nested(ctx context.Context, t Table) error
	Generic(ctx context.Context, b Box[Msg]) error
	Complex(ctx context.Context, w []Wave) error
	Anonymous(ctx context.Context, a struct{ In []Msg }) error
}
