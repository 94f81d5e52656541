package runtime_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Services may be registered while calls run: the route table is replaced,
// never changed under a reader.
func TestRegisterWhileServing(t *testing.T) {
	n := runtime.NewInProc()
	srv := runtime.NewServer()
	srv.RegisterService(&benchDesc, nil)
	if _, err := n.Serve("s", srv); err != nil {
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
