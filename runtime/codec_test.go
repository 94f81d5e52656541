package runtime_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// countingCodec is JSON that counts its use, so a test can see which codec
// each side ran.
type countingCodec struct{ marshals, unmarshals atomic.Int64 }

func (c *countingCodec) Name() string { return "counting-json" }
func (c *countingCodec) Marshal(v any) ([]byte, error) {
	c.marshals.Add(1)
	return runtime.JSON.Marshal(v)
}
func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshals.Add(1)
	return runtime.JSON.Unmarshal(data, v)
}

func TestWithCodecIsUsedOnBothSides(t *testing.T) {
	var client, server countingCodec
	n := runtime.NewInProc()
	srv := runtime.NewServer(runtime.WithCodec(&server))
	srv.RegisterService(&benchDesc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := runtime.NewClient(n, runtime.WithCodec(&client))
	var out lookupResult
	if err := c.Invoke(context.Background(), "s", "bench.svc.lookup", &lookupArgs{A0: 7}, &out); err != nil {
		t.Fatal(err)
	}
	if out.R0 == nil || out.R0.ID != 7 {
		t.Fatalf("result = %+v", out.R0)
	}
	// The client encodes the arguments and decodes the result; the server
	// decodes the arguments and encodes the result.
	if client.marshals.Load() != 1 || client.unmarshals.Load() != 1 {
		t.Errorf("client codec: %d marshals, %d unmarshals; want 1 and 1", client.marshals.Load(), client.unmarshals.Load())
	}
	if server.marshals.Load() != 1 || server.unmarshals.Load() != 1 {
		t.Errorf("server codec: %d marshals, %d unmarshals; want 1 and 1", server.marshals.Load(), server.unmarshals.Load())
	}
}

// selfCoding has the methods rpcgen generates on wire structs; it writes and
// reads a marker that encoding/json would not, so the test sees which ran.
type selfCoding struct{ V string }

func (s *selfCoding) AppendJSON(b []byte) ([]byte, error) { return append(b, `"self"`...), nil }
func (s *selfCoding) DecodeJSON(data []byte) error        { s.V = "decoded by DecodeJSON"; return nil }

// The JSON codec calls the generated methods when a value has them, and
// encoding/json otherwise; MarshalAppend appends.
func TestJSONUsesGeneratedMethods(t *testing.T) {
	codec := runtime.JSON
	if b, err := codec.Marshal(&selfCoding{}); err != nil || string(b) != `"self"` {
		t.Errorf("Marshal = %s, %v; want the generated method's output", b, err)
	}
	if b, err := codec.MarshalAppend([]byte("x:"), &selfCoding{}); err != nil || string(b) != `x:"self"` {
		t.Errorf("MarshalAppend = %s, %v", b, err)
	}
	var s selfCoding
	if err := codec.Unmarshal([]byte(`{"V":"json"}`), &s); err != nil || s.V != "decoded by DecodeJSON" {
		t.Errorf("Unmarshal: %+v, %v; want the generated method to run", s, err)
	}
	plain := struct{ V string }{"p"}
	if b, err := codec.MarshalAppend([]byte("x:"), &plain); err != nil || string(b) != `x:{"V":"p"}` {
		t.Errorf("MarshalAppend without the methods = %s, %v", b, err)
	}
	if err := codec.Unmarshal([]byte(`{"V":"q"}`), &plain); err != nil || plain.V != "q" {
		t.Errorf("Unmarshal without the methods: %+v, %v", plain, err)
	}
}
