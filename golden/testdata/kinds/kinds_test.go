package kinds

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// echo returns what it gets, transformed so that a mix-up shows.
type echo struct{}

func (echo) Maps(ctx context.Context, m map[string]int, mm map[int][]*Point, nested map[string]map[int][]string) (map[int64]bool, error) {
	out := map[int64]bool{}
	for k, v := range mm {
		out[int64(k)] = len(v) > 0 && m["x"] == v[0].X && len(nested["n"][k]) == 1
	}
	return out, nil
}

func (echo) Arrays(ctx context.Context, a [4]byte, grid [3][3]rune, ps [2]*Point) ([16]uint8, error) {
	var out [16]uint8
	copy(out[:], a[:])
	out[4] = uint8(grid[1][2])
	out[5] = uint8(ps[1].Y)
	return out, nil
}

func (echo) Pointers(ctx context.Context, p *Point, pp **Point, ps []*Point) (*[]Point, error) {
	out := []Point{*p, **pp}
	for _, q := range ps {
		out = append(out, *q)
	}
	return &out, nil
}

func (echo) Dynamic(ctx context.Context, v any, e interface{}, raw json.RawMessage, vs []any) (json.RawMessage, error) {
	return json.Marshal([]any{v, e, raw, vs})
}

func (echo) Basics(ctx context.Context, b bool, i8 int8, u uint, f float64, s string, bs []byte, r rune, d time.Duration, up uintptr) (float32, error) {
	if !b || i8 != -8 || u != 8 || s != "s" || string(bs) != "bs" || r != 'r' || d != time.Second || up != 9 {
		return 0, runtime.Errorf(runtime.InvalidArgument, "got %v %v %v %v %q %q %q %v %v", b, i8, u, f, s, bs, r, d, up)
	}
	return float32(f), nil
}

func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterKindsServer(srv, echo{})
	net := runtime.NewInProc()
	if _, err := net.Serve("k", srv); err != nil {
		t.Fatal(err)
	}
	c := NewKindsClient(runtime.NewClient(net))
	ctx := context.Background()

	m, err := c.Maps(ctx, "k", map[string]int{"x": 3}, map[int][]*Point{5: {{X: 3}}}, map[string]map[int][]string{"n": {5: {"a"}}})
	if err != nil || !m[5] {
		t.Fatalf("Maps = %v, %v", m, err)
	}
	arr, err := c.Arrays(ctx, "k", [4]byte{1, 2, 3, 4}, [3][3]rune{1: {2: 'z'}}, [2]*Point{{}, {Y: 7}})
	if want := [16]uint8{1, 2, 3, 4, 'z', 7}; err != nil || arr != want {
		t.Fatalf("Arrays = %v, %v", arr, err)
	}
	p := &Point{X: 1}
	ps, err := c.Pointers(ctx, "k", p, &p, []*Point{{Y: 2}})
	if want := []Point{{X: 1}, {X: 1}, {Y: 2}}; err != nil || ps == nil || !cmp.Equal(*ps, want) {
		t.Fatalf("Pointers = %v, %v", ps, err)
	}
	raw, err := c.Dynamic(ctx, "k", "v", 1.5, json.RawMessage(`{"a":1}`), []any{true, nil})
	if want := `["v",1.5,{"a":1},[true,null]]`; err != nil || string(raw) != want {
		t.Fatalf("Dynamic = %s, %v; want %s", raw, err, want)
	}
	f, err := c.Basics(ctx, "k", true, -8, 8, 2.5, "s", []byte("bs"), 'r', time.Second, 9)
	if err != nil || f != 2.5 {
		t.Fatalf("Basics = %v, %v", f, err)
	}
}

// The generated JSON methods of every wire struct, against encoding/json:
// edge values out, and payloads in.
func TestWireJSON(t *testing.T) {
	p := &Point{X: -1, Y: 1 << 40}
	for _, v := range []wirecheck.Wire{
		&_Kinds_Basics_Args{true, -128, ^uint(0), 1e21, "<é>\u2028\xff\"\\\b\f\n\r\t\x01\x7f", []byte{0, 255}, -1, time.Duration(-1 << 63), ^uintptr(0)},
		&_Kinds_Basics_Args{A3: 1e-7, A4: ""},
		&_Kinds_Basics_Args{A3: 123456789.125},
		&_Kinds_Basics_Args{A3: math.NaN()}, // an error, as in encoding/json
		&_Kinds_Basics_Args{A3: math.Inf(-1)},
		&_Kinds_Basics_Result{R0: float32(1e-7)},
		&_Kinds_Basics_Result{R0: float32(math.Inf(1))},
		&_Kinds_Maps_Args{A0: map[string]int{"<": 1}, A1: map[int][]*Point{2: {p, nil}}},
		&_Kinds_Arrays_Args{A1: [3][3]rune{{'<'}}, A2: [2]*Point{p}},
		&_Kinds_Pointers_Args{A1: &p},
		&_Kinds_Dynamic_Args{A0: "x", A1: 1.5, A2: json.RawMessage(` {"a" : "<"} `), A3: []any{nil, 1}},
		&_Kinds_Dynamic_Args{A2: json.RawMessage(`{`)},
	} {
		wirecheck.Encode(t, v)
	}
	for _, data := range []string{
		`{"a0":true,"a1":-128,"a2":18446744073709551615,"a3":1e308,"a4":"s","a5":"AP8=","a6":-2147483648,"a7":-9223372036854775808,"a8":1}`,
		`{"a1":-129}`, `{"a1":128}`, `{"a2":-0}`, `{"a6":2147483648}`, `{"a3":1e309}`, `{"a3":-0.0}`, `{"a3":"1"}`,
		`{"A0":false,"A4":"\u0041","a\u0034":"escaped name"}`,
		`{"a0":null,"a1":null,"a3":null,"a4":null,"a5":null}`,
		`{"a0":1}`, `{"a0":"true"}`, `{"a4":1}`, `{"a5":"not base64"}`,
		`{"a7":1.0}`, `{"a7":1e3}`, `{"a8":-1}`,
	} {
		wirecheck.Decode(t, newOf[_Kinds_Basics_Args], []byte(data))
	}
	for _, data := range []string{`{"r0":3.4028235e38}`, `{"r0":3.5e38}`, `{"r0":1e-46}`, `{"r0":-0}`} {
		wirecheck.Decode(t, newOf[_Kinds_Basics_Result], []byte(data))
	}
	for _, data := range []string{
		`{"a0":{"x":1},"a0":{"y":2},"a1":{"1":[{"X":1},null]},"a2":{"n":{"2":["s"]}}}`,
		`{"a1":{"x":[]}}`,
	} {
		wirecheck.Decode(t, newOf[_Kinds_Maps_Args], []byte(data))
	}
	for _, data := range []string{`{"a0":[1,2,3,4,5],"a1":[[1],[2,3]],"a2":[null,{"Y":1}]}`, `{"a0":"AQID"}`} {
		wirecheck.Decode(t, newOf[_Kinds_Arrays_Args], []byte(data))
	}
	for _, data := range []string{`{"a0":{"X":1},"a1":{"X":2},"a2":[{"Y":3}]}`, `{"a1":null}`} {
		wirecheck.Decode(t, newOf[_Kinds_Pointers_Args], []byte(data))
	}
	for _, data := range []string{`{"a0":1,"a1":{"x":[1]},"a2":  {"a" : 1} ,"a3":[1,"x"]}`, `{"a2":null}`} {
		wirecheck.Decode(t, newOf[_Kinds_Dynamic_Args], []byte(data))
	}
}

func newOf[T any]() *T { return new(T) }
