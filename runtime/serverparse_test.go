package runtime

import (
	"bytes"
	"context"
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
		{Route: "bench.svc.bind", Timeout: time.Second, Metadata: Metadata{"k": "v"}.Encode(), Payload: []byte(`{"a1":"u"}`)},
		{Route: "bench.svc.unknown", Payload: []byte(`{}`)},
		{Route: ""},
	} {
		data := AppendRequest(nil, &r)
		got, err := srv.parseRequest(data)
		want, wantErr := ParseRequest(data)
		if err != nil || wantErr != nil {
			t.Fatalf("ParseRequest(%q): %v, %v", r.Route, err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal), cmpMetadata); diff != "" {
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

type allocArgs struct {
	N int `json:"n"`
}

func (a *allocArgs) AppendJSON(b []byte) ([]byte, error) { return append(b, `{"n":0}`...), nil }
func (a *allocArgs) DecodeJSON([]byte) error             { return nil }

type allocResult struct {
	N int `json:"n"`
}

func (r *allocResult) AppendJSON(b []byte) ([]byte, error) { return append(b, `{"n":1}`...), nil }
func (r *allocResult) DecodeJSON([]byte) error             { return nil }

type allocCall struct {
	args   allocArgs
	result allocResult
}

// A method with NewCall makes its arguments and result in one allocation,
// and ServeAppend encodes the result into the buffer it is given: each saves
// one allocation per call against NewArgs and NewResult, and Serve.
func TestServeAllocations(t *testing.T) {
	handler := func(_ context.Context, _, args, result any) error { return nil }
	srv := NewServer()
	srv.RegisterService(&ServiceDesc{Name: "a.s", Methods: []MethodDesc{
		{Route: "a.s.apart", NewArgs: func() any { return new(allocArgs) }, NewResult: func() any { return new(allocResult) }, Handler: handler},
		{Route: "a.s.together", NewArgs: func() any { return new(allocArgs) }, NewResult: func() any { return new(allocResult) },
			NewCall: func() (any, any) { c := new(allocCall); return &c.args, &c.result }, Handler: handler},
	}}, nil)
	ep := srv.Endpoint()
	buf := make([]byte, 0, 64)
	serve := func(route string, append bool) float64 {
		data := AppendRequest(nil, &Request{Route: route, Payload: []byte(`{}`)})
		return testing.AllocsPerRun(200, func() {
			var c Call
			if _, ok := ep.Begin(&c, data, nil, nil); !ok {
				t.Fatal("refused")
			}
			var resp Response
			if append {
				resp = ep.ServeAppend(&c, buf)
			} else {
				resp = ep.Serve(&c)
			}
			if string(resp.Payload) != `{"n":1}` {
				t.Fatalf("payload %q", resp.Payload)
			}
			ep.Done(&c)
		})
	}
	apart, together, appended := serve("a.s.apart", false), serve("a.s.together", false), serve("a.s.together", true)
	if together != apart-1 {
		t.Errorf("NewCall: %v allocations per call, NewArgs and NewResult %v; want one fewer", together, apart)
	}
	if appended != together-1 {
		t.Errorf("ServeAppend: %v allocations per call, Serve %v; want one fewer", appended, together)
	}
}
