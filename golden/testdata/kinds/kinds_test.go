package kinds

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	if err := net.Serve("k", srv); err != nil {
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
