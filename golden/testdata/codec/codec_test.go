package codec

import (
	"bytes"
	"context"
	"encoding/gob"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// gobCodec is the codec the service is declared for.
type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }

func (gobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

type signal struct{}

func (signal) Scale(_ context.Context, z complex128, samples map[Point]complex64) (map[Point]complex64, error) {
	out := make(map[Point]complex64, len(samples))
	for p, s := range samples {
		out[p] = s * complex64(z)
	}
	return out, nil
}

// TestGob calls the service through the codec it is declared for.
func TestGob(t *testing.T) {
	srv := runtime.NewServer(runtime.WithCodec(gobCodec{}))
	RegisterSignalServer(srv, signal{})
	net := runtime.NewInProc()
	if _, err := net.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := NewSignalClient(runtime.NewClient(net, runtime.WithCodec(gobCodec{})))
	got, err := c.Scale(context.Background(), "s", 2i, map[Point]complex64{{1, 2}: 1 + 1i})
	if want := map[Point]complex64{{1, 2}: -2 + 2i}; err != nil || !cmp.Equal(got, want) {
		t.Fatalf("Scale = %v, %v; want %v", got, err, want)
	}
}
