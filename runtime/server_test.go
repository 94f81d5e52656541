package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Services may be registered while calls run: the route table is replaced,
// never changed under a reader.
func TestRegisterWhileServing(t *testing.T) {
	n := runtime.NewInProc()
	srv := runtime.NewServer()
	srv.RegisterService(&benchDesc, nil)
	if err := n.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := runtime.NewClient(n)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := c.Invoke(ctx, "s", "bench.svc.bind", &bindArgs{A1: "u"}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	extra := runtime.ServiceDesc{Name: "late.svc", Methods: []runtime.MethodDesc{{
		Route: "late.svc.ping", NewArgs: func() any { return new(struct{}) },
		Handler: func(context.Context, any, any, any) error { return nil },
	}}}
	srv.RegisterService(&extra, nil)
	wg.Wait()
	if err := c.Invoke(ctx, "s", "late.svc.ping", &struct{}{}, nil); err != nil {
		t.Fatalf("route registered while serving: %v", err)
	}
	want := []string{"bench.svc.bind", "bench.svc.lookup", "late.svc.ping"}
	if got := srv.Routes(); !slices.Equal(got, want) {
		t.Fatalf("Routes() = %v, want %v", got, want)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	srv := runtime.NewServer()
	srv.RegisterService(&benchDesc, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("registering a route twice did not panic")
		}
		// The table is as it was: the first registration still serves.
		if got := len(srv.Routes()); got != 2 {
			t.Fatalf("%d routes after the refused registration, want 2", got)
		}
	}()
	srv.RegisterService(&benchDesc, nil)
}

// Server.ParseRequest parses as ParseRequest does, and gives a registered
// route the registered string, allocating nothing for it.
func TestServerParseRequest(t *testing.T) {
	srv := runtime.NewServer()
	if _, err := srv.ParseRequest(runtime.AppendRequest(nil, &runtime.Request{Route: "bench.svc.bind"})); err != nil {
		t.Fatalf("with no routes registered: %v", err)
	}
	srv.RegisterService(&benchDesc, nil)
	for _, r := range []runtime.Request{
		{Route: "bench.svc.bind", Timeout: time.Second, Metadata: runtime.Metadata{"k": "v"}, Payload: []byte(`{"a1":"u"}`)},
		{Route: "bench.svc.unknown", Payload: []byte(`{}`)},
		{Route: ""},
	} {
		data := runtime.AppendRequest(nil, &r)
		got, err := srv.ParseRequest(data)
		want, wantErr := runtime.ParseRequest(data)
		if err != nil || wantErr != nil {
			t.Fatalf("ParseRequest(%q): %v, %v", r.Route, err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("Server.ParseRequest differs from ParseRequest (-want +got):\n%s", diff)
		}
	}
	if _, err := srv.ParseRequest([]byte{1, 200}); !errors.Is(err, runtime.ErrMalformed) {
		t.Errorf("malformed request: err = %v, want ErrMalformed", err)
	}
	data := runtime.AppendRequest(nil, &runtime.Request{Route: "bench.svc.bind", Timeout: time.Second, Payload: []byte(`{}`)})
	if allocs := testing.AllocsPerRun(100, func() { _, _ = srv.ParseRequest(data) }); allocs != 0 {
		t.Errorf("parsing a request for a registered route: %v allocations, want 0", allocs)
	}
}
