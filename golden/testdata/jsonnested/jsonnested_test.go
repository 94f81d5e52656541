package jsonnested

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
	"github.com/sessionrpc/sessionrpc/runtime"
)

type impl struct{}

func (impl) Put(ctx context.Context, item Item, items []Item, byName map[string]*Item, grid [][]int, ptr **Ref, raw json.RawMessage) (*Item, error) {
	out := item
	out.Tags = append(out.Tags, byName["x"].Kind, (*ptr).Name, string(raw))
	out.Size = int32(len(items) + len(grid))
	return &out, nil
}

func (impl) Odd(ctx context.Context, n *Node, q Quoted, e Embeds, s Stamp, names Names, blob []byte) ([]Item, error) {
	return []Item{{ID: ID(q.N), Kind: n.Kids[0].Name + e.Name + names.B + string(blob)}}, nil
}

func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterStoreServer(srv, impl{})
	net := runtime.NewInProc()
	if _, err := net.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := NewStoreClient(runtime.NewClient(net))
	ref := &Ref{ID: 1, Name: "r<"}
	item := Item{ID: 7, Kind: "k", Raw: json.RawMessage(` {"a" : 1} `), Attrs: map[string]json.RawMessage{"b": []byte("[1, 2]")}, Parent: ref, Weight: 0.5, NoTag: "n"}
	got, err := c.Put(context.Background(), "s", item, []Item{{}, {}}, map[string]*Item{"x": {Kind: "kx"}}, [][]int{{1}}, &ref, json.RawMessage(`"raw"`))
	if err != nil {
		t.Fatal(err)
	}
	want := item
	want.Raw = json.RawMessage(`{"a":1}`)
	want.Attrs = map[string]json.RawMessage{"b": []byte("[1,2]")}
	want.Tags = []string{"kx", "r<", `"raw"`}
	want.Size = 3
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Put = %+v, want %+v", *got, want)
	}
	items, err := c.Odd(context.Background(), "s", &Node{Kids: []*Node{{Name: "kid"}}}, Quoted{N: 5}, Embeds{Ref: Ref{Name: "e"}}, Stamp{}, Names{B: "B"}, []byte("b"))
	if err != nil || len(items) != 1 || items[0].ID != 5 || items[0].Kind != "kideBb" {
		t.Fatalf("Odd = %+v, %v", items, err)
	}
}

// encodeCases are values whose encoding must be encoding/json's.
var encodeCases = []wirecheck.Wire{
	&_Store_Put_Args{},
	&_Store_Put_Args{
		A0: Item{ID: math.MaxUint64, Kind: "<k&>", Size: -1, On: true, Raw: json.RawMessage("\t[ 1 ,\"\u2028 <\" ]\n"),
			Tags: []string{}, Attrs: map[string]json.RawMessage{}, Parent: &Ref{}, Weight: math.Copysign(0, -1), Skipped: "s", Dash: "d", NoTag: "n", hidden: "h"},
		A1: []Item{{}, {Tags: []string{"a", ""}, Attrs: map[string]json.RawMessage{"z": []byte("null"), "a": []byte(`{}`), "é": []byte("1")}}},
		A2: map[string]*Item{"nil": nil, "x": {Kind: "x"}},
		A3: [][]int{nil, {}, {1, -2}},
		A4: new(*Ref),
		A5: json.RawMessage("null"),
	},
	&_Store_Put_Args{A0: Item{Raw: json.RawMessage("{")}},
	&_Store_Put_Args{A0: Item{Attrs: map[string]json.RawMessage{"bad": []byte("1 2")}}},
	&_Store_Put_Args{A0: Item{Weight: math.NaN()}},
	&_Store_Put_Args{A1: []Item{{Weight: math.Inf(1)}}},
	&_Store_Put_Args{A5: json.RawMessage{}},
	&_Store_Put_Result{R0: &Item{Kind: "k"}},
	&_Store_Put_Result{},
	&_Store_Odd_Result{R0: []Item{{ID: 1}}},
}

// decodeCases are inputs whose decoding must be encoding/json's.
var decodeCases = []string{
	`{}`, `null`, `[]`, `{`, `{"a0":null,"a1":null,"a2":null,"a3":null,"a4":null,"a5":null}`,
	`{"a0":{"id":1,"kind":"k","size":-5,"on":true,"raw":{ "x" : 1 },"tags":["a",null,"b"],"attrs":{"a":1,"b":null},"parent":{"id":2,"name":"p"},"weight":1.5,"-":"d","NoTag":"n","hidden":"h","Skipped":"s"}}`,
	`{"a0":{"ID":1,"KIND":"k","ſize":3,"\u212aind":"kelvin","notag":"x","Parent":null}}`,
	`{"a0":{"tags":["a","b","c"]},"a0":{"tags":["x"]},"a0":{"tags":[null,null]}}`,
	`{"a0":{"attrs":{"a":1}},"a0":{"attrs":{"b":2}},"a0":{"attrs":null}}`,
	`{"a0":{"parent":{"id":1}},"a0":{"parent":{"name":"n"}}}`,
	`{"a0":{"tags":[]}}`, `{"a0":{"tags":{}}}`, `{"a0":{"attrs":[]}}`, `{"a0":{"parent":5}}`, `{"a0":5}`, `{"a0":"x"}`,
	`{"a1":[{"id":1},{"id":2},{"id":3}],"a1":[{"kind":"k"}],"a1":[{},{},{}]}`,
	`{"a1":[null,{"id":1}]}`, `{"a1":[1]}`, `{"a1":[{"id":1},]}`, `{"a1":[{"id":1}}`,
	`{"a2":{"x":{"id":1},"y":null},"a2":{"x":{"kind":"k"}}}`, `{"a2":{"x":[]}}`,
	`{"a3":[[1,2],[],null,[3]]}`, `{"a3":[[1.5]]}`, `{"a3":[[1],[2]],"a3":[[3]]}`,
	`{"a4":{"id":1}}`, `{"a4":null}`, `{"a4":{"id":1},"a4":{"name":"n"}}`,
	`{"a5":[1, {"x": null}]}`, `{"a5":null}`, `{"a5":"s"}`, `{"a5":}`,
	`{"r0":{"id":1}}`, `{"r0":null}`, `{"r0":[{"id":1}]}`, `{"r0":[[[[[[[[[[[]]]]]]]]]]]}`,
	`{"a0":{"raw":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`,
}

func TestWireJSON(t *testing.T) {
	for _, v := range encodeCases {
		wirecheck.Encode(t, v)
	}
	for _, data := range decodeCases {
		checkDecode(t, []byte(data))
	}
}

func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	wirecheck.Decode(t, newOf[_Store_Put_Args], data)
	wirecheck.Decode(t, newOf[_Store_Put_Result], data)
	wirecheck.Decode(t, newOf[_Store_Odd_Result], data)
}

func newOf[T any]() *T { return new(T) }

// FuzzWireJSON is [TestWireJSON]'s decoding for any bytes.
func FuzzWireJSON(f *testing.F) {
	for _, data := range decodeCases {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}
