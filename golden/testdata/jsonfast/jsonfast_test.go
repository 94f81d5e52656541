package jsonfast

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
	"github.com/sessionrpc/sessionrpc/runtime"
)

type impl struct{}

func (impl) Everything(ctx context.Context, id ID, f Flag, lvl Level, t Temp, n Name, i int, i16 int16, i32 int32, i64 int64, u8 uint8, u16 uint16, u32 uint32, u64 uint64, f32 float32) (ID, error) {
	if !f || lvl != "high" || t != 20 || n != "n" || i != -1 || i16 != -16 || i32 != -32 || i64 != math.MinInt64 || u8 != 8 || u16 != 16 || u32 != 32 || u64 != math.MaxUint64 || f32 != 0.5 {
		return 0, runtime.Errorf(runtime.InvalidArgument, "got %v %v %v %v %v %v %v %v %v %v %v %v %v", f, lvl, n, i, i16, i32, i64, u8, u16, u32, u64, f32, t)
	}
	return id + 1, nil
}

func (impl) Nothing(ctx context.Context) error { return nil }

func (impl) Level(ctx context.Context) (Level, error) { return "top", nil }

func (impl) Number(ctx context.Context, n json.Number) (json.Number, error) { return n + "0", nil }

func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterWireServer(srv, impl{})
	net := runtime.NewInProc()
	if _, err := net.Serve("w", srv); err != nil {
		t.Fatal(err)
	}
	c := NewWireClient(runtime.NewClient(net))
	ctx := context.Background()
	id, err := c.Everything(ctx, "w", 41, true, "high", 20, "n", -1, -16, -32, math.MinInt64, 8, 16, 32, math.MaxUint64, 0.5)
	if err != nil || id != 42 {
		t.Fatalf("Everything = %v, %v", id, err)
	}
	if err := c.Nothing(ctx, "w"); err != nil {
		t.Fatalf("Nothing: %v", err)
	}
	if lvl, err := c.Level(ctx, "w"); err != nil || lvl != "top" {
		t.Fatalf("Level = %q, %v", lvl, err)
	}
	if n, err := c.Number(ctx, "w", "1.5"); err != nil || n != "1.50" {
		t.Fatalf("Number = %q, %v", n, err)
	}
}

// The generated JSON methods against encoding/json, for the types they
// encode themselves and for those they must leave to it.
func TestWireJSON(t *testing.T) {
	for _, v := range []wirecheck.Wire{
		&_Wire_Everything_Args{A0: math.MaxUint32, A1: true, A2: "x<", A3: 31, A4: "<n>", A5: math.MinInt, A13: 1e-7},
		&_Wire_Everything_Args{A3: 1, A13: float32(math.Inf(1))},
		&_Wire_Everything_Result{R0: 7},
		&_Wire_Nothing_Args{},
		&_Wire_Level_Result{R0: "x"},
		&_Wire_Number_Args{A0: "-12.5e3"},
		&_Wire_Number_Args{A0: "not a number"},
	} {
		wirecheck.Encode(t, v)
	}
	for _, data := range []string{
		`{"a0":4294967295,"a1":true,"a2":"level-x","a3":1.5,"a4":"n","a5":-1,"a6":-32768,"a7":-2147483648,"a8":-9223372036854775808,"a9":255,"a10":65535,"a11":4294967295,"a12":18446744073709551615,"a13":3.4e38}`,
		`{"a0":4294967296}`, `{"a9":256}`, `{"a10":-1}`, `{"a6":32768}`, `{"a13":3.5e38}`, `{"a1":"true"}`, `{"a2":1}`, `{"a3":"hot"}`, `{"a3":{"celsius":-4}}`,
		`{"A2":"level-up","A13":1}`,
	} {
		wirecheck.Decode(t, newOf[_Wire_Everything_Args], []byte(data))
	}
	for _, data := range []string{`{}`, `{"x":[{}]}`, `null`, `{"a0":1}`, `[]`, `{`} {
		wirecheck.Decode(t, newOf[_Wire_Nothing_Args], []byte(data))
	}
	for _, data := range []string{`{"r0":"level-top"}`, `{"r0":5}`} {
		wirecheck.Decode(t, newOf[_Wire_Level_Result], []byte(data))
	}
	for _, data := range []string{`{"a0":1.5}`, `{"a0":"1.5"}`, `{"a0":"x"}`, `{"a0":true}`} {
		wirecheck.Decode(t, newOf[_Wire_Number_Args], []byte(data))
	}
}

func newOf[T any]() *T { return new(T) }
