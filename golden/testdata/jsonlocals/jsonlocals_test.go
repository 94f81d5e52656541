package jsonlocals

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
)

// The JSON methods whose variables were renamed encode and decode as
// encoding/json does.
func TestRenamedLocalsJSON(t *testing.T) {
	z := v{"k": d{{N: 1}, {}}}
	for _, w := range []wirecheck.Wire{
		&_Locals_Put_Args{},
		&_Locals_Put_Args{A0: []b{{N: 2}}, A1: map[string]*p2{"x": {B: &b{N: 3}}, "y": nil}, A2: &z, A3: []err{4}, A4: []data{"s"}},
		&_Locals_Put_Result{R0: &d{{N: 5}}},
	} {
		wirecheck.Encode(t, w)
	}
	for _, data := range []string{
		`{"a0":[{"n":1}],"a1":{"x":{"b":{"n":2}},"y":null},"a2":{"k":[{"n":3}]},"a3":[4],"a4":["s"]}`,
		`{"a1":{"x":{"b":null}},"a2":null}`,
		`{"a2":{"k":[{"n":"x"}]}}`,
	} {
		wirecheck.Decode(t, func() *_Locals_Put_Args { return new(_Locals_Put_Args) }, []byte(data))
	}
}
