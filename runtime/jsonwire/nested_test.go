package jsonwire_test

import (
	"encoding/json"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

// FuzzAppendRawMessage compares AppendRawMessage with json.Marshal of a
// json.RawMessage: the same bytes, or an error from both.
func FuzzAppendRawMessage(f *testing.F) {
	for _, s := range []string{"", " ", "1", " 1 ", "1 2", `{"a" : [ 1 , "<>&" ] }`, "\"\u2028\xe2\x80\xa9\"", "\"\xff\"",
		`"\u003c"`, `[`, `{"a":1}x`, "\t\n\r\"\\\"\"", `nul`, `null`, `{"a":{"b":{"c":[[]]}}}`, "\"\xe2\x80\"", "\"\xe2\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, wantErr := json.Marshal(json.RawMessage(raw))
		got, err := jsonwire.AppendRawMessage([]byte("x"), raw)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("AppendRawMessage(%q) error %v, json.Marshal error %v", raw, err, wantErr)
		}
		if err == nil && string(got) != "x"+string(want) {
			t.Fatalf("AppendRawMessage(%q) = %q, json.Marshal = x%q", raw, got, want)
		}
		if err != nil && (string(got) != "x" || err.Error() != wantErr.Error()) {
			t.Fatalf("AppendRawMessage(%q) = %q, %v; json.Marshal error %v", raw, got, err, wantErr)
		}
	})
}

// TestNestedAllocations checks that the nested helpers allocate only what
// the values need: encoding a map of up to 16 entries allocates one slot for
// its values, a slice or a raw message into a buffer with room nothing;
// decoding a raw message allocates its copy only.
func TestNestedAllocations(t *testing.T) {
	m := map[string]json.RawMessage{"b": json.RawMessage(`1`), "a": json.RawMessage(` [ "<" ] `), "c": json.RawMessage(`null`)}
	s := []string{"x", "y"}
	buf := make([]byte, 0, 1024)
	raw := func(b []byte, p *json.RawMessage) ([]byte, error) { return jsonwire.AppendRawMessage(b, *p) }
	str := func(b []byte, p *string) ([]byte, error) { return jsonwire.AppendString(b, *p), nil }
	if n := testing.AllocsPerRun(100, func() {
		b, _ := jsonwire.AppendMap(buf[:0], m, raw)
		b, _ = jsonwire.AppendSlice(b, s, str)
		_, _ = jsonwire.AppendRawMessage(b, m["a"])
	}); n != 1 {
		t.Errorf("encoding allocates %v times, want 1", n)
	}
	if got, _ := jsonwire.AppendMap(nil, m, raw); string(got) != `{"a":["\u003c"],"b":1,"c":null}` {
		t.Errorf("AppendMap = %s", got)
	}
	data := []byte(`{"a0":{"json":{"x":[1,2]}}}`)
	var v json.RawMessage
	if n := testing.AllocsPerRun(100, func() {
		v = nil
		d := jsonwire.NewDecoder(data)
		for d.Next() {
			if d.Object() {
				for d.Next() {
					d.RawMessage(&v)
				}
			}
		}
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
	}); n != 1 {
		t.Errorf("decoding a raw message allocates %v times, want 1", n)
	}
	if string(v) != `{"x":[1,2]}` {
		t.Errorf("decoded %s", v)
	}
}
