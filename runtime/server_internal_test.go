package runtime

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var parseTestDesc = ServiceDesc{Name: "bench.svc", Methods: []MethodDesc{
	{Route: "bench.svc.bind", NewArgs: func() any { return new(struct{}) }},
}}

// Server.parseRequest parses as ParseRequest does, and gives a registered
// route the registered string, allocating nothing for it.
func TestServerParseRequest(t *testing.T) {
	srv := NewServer()
	if _, err := srv.parseRequest(AppendRequest(nil, &Request{Route: "bench.svc.bind"})); err != nil {
		t.Fatalf("with no routes registered: %v", err)
	}
	srv.RegisterService(&parseTestDesc, nil)
	for _, r := range []Request{
		{Route: "bench.svc.bind", Timeout: time.Second, Metadata: Metadata{"k": "v"}, Payload: []byte(`{"a1":"u"}`)},
		{Route: "bench.svc.unknown", Payload: []byte(`{}`)},
		{Route: ""},
	} {
		data := AppendRequest(nil, &r)
		got, err := srv.parseRequest(data)
		want, wantErr := ParseRequest(data)
		if err != nil || wantErr != nil {
			t.Fatalf("ParseRequest(%q): %v, %v", r.Route, err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("Server.parseRequest differs from ParseRequest (-want +got):\n%s", diff)
		}
	}
	if _, err := srv.parseRequest([]byte{1, 200}); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed request: err = %v, want ErrMalformed", err)
	}
	data := AppendRequest(nil, &Request{Route: "bench.svc.bind", Timeout: time.Second, Payload: []byte(`{}`)})
	if allocs := testing.AllocsPerRun(100, func() { _, _ = srv.parseRequest(data) }); allocs != 0 {
		t.Errorf("parsing a request for a registered route: %v allocations, want 0", allocs)
	}
}
