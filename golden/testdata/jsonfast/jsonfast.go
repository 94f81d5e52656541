// Package jsonfast has the types whose JSON the generated methods handle
// themselves, converted, or leave to encoding/json.
package jsonfast

import (
	"context"
	"encoding/json"
	"strings"
)

// ID is a named integer without JSON methods: the generated code converts it
// and encodes it itself.
type ID uint32

// Flag is a named bool without JSON methods.
type Flag bool

// Level has text methods, which encoding/json calls, so the generated code
// leaves it to encoding/json.
type Level string

// MarshalText writes "level-" and the level.
func (l Level) MarshalText() ([]byte, error) { return []byte("level-" + string(l)), nil }

// UnmarshalText reads what MarshalText writes.
func (l *Level) UnmarshalText(b []byte) error {
	*l = Level(strings.TrimPrefix(string(b), "level-"))
	return nil
}

// Temp has JSON methods on its pointer only, which encoding/json calls for a
// field of a struct it encodes through a pointer.
type Temp float64

// MarshalJSON writes {"celsius":t}.
func (t *Temp) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"celsius": float64(*t)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Temp) UnmarshalJSON(b []byte) error {
	var v struct{ Celsius float64 }
	err := json.Unmarshal(b, &v)
	*t = Temp(v.Celsius)
	return err
}

// Name is an alias of string.
type Name = string

// Wire takes one of each.
//
//rpcgen:service test.jsonfast
type Wire interface {
	// Everything takes every kind the generated code encodes itself, and
	// some it does not.
	Everything(ctx context.Context, id ID, f Flag, lvl Level, t Temp, n Name, i int, i16 int16, i32 int32, i64 int64, u8 uint8, u16 uint16, u32 uint32, u64 uint64, f32 float32) (ID, error)
	// Nothing takes nothing.
	Nothing(ctx context.Context) error
	// Level returns a type with text methods.
	Level(ctx context.Context) (Level, error)
	// Number takes a string type that encoding/json writes as a number.
	Number(ctx context.Context, n json.Number) (json.Number, error)
}
