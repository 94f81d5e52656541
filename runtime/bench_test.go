package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// A method shaped like sys.sessionRemote.bind (error only) and one shaped
// like a lookup ((T, error)), hand-written as rpcgen would generate them.
type bindArgs struct {
	A0 uint64 `json:"a0"`
	A1 string `json:"a1"`
}
type lookupArgs struct {
	A0 uint64 `json:"a0"`
}
type lookupResult struct {
	R0 *info `json:"r0"`
}
type info struct {
	ID         uint64 `json:"id"`
	FrontendID string `json:"frontendId"`
	UID        string `json:"uid"`
}

var benchDesc = runtime.ServiceDesc{Name: "bench.svc", Methods: []runtime.MethodDesc{
	{Route: "bench.svc.bind", NewArgs: func() any { return new(bindArgs) },
		Handler: func(ctx context.Context, impl, args, result any) error { return nil }},
	{Route: "bench.svc.lookup", NewArgs: func() any { return new(lookupArgs) }, NewResult: func() any { return new(lookupResult) },
		Handler: func(ctx context.Context, impl, args, result any) error {
			result.(*lookupResult).R0 = &info{ID: args.(*lookupArgs).A0, FrontendID: "connector-1", UID: "user-42"}
			return nil
		}},
}}

func benchClient(b *testing.B) *runtime.Client {
	n := runtime.NewInProc()
	srv := runtime.NewServer()
	srv.RegisterService(&benchDesc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		b.Fatal(err)
	}
	return runtime.NewClient(n)
}

func BenchmarkInProcErrorOnly(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Invoke(ctx, "s", "bench.svc.bind", &bindArgs{A0: 7, A1: "user-42"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInProcWithResult(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var out lookupResult
		if err := c.Invoke(ctx, "s", "bench.svc.lookup", &lookupArgs{A0: 7}, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInProcWithDeadline(b *testing.B) {
	c := benchClient(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Invoke(ctx, "s", "bench.svc.bind", &bindArgs{A0: 7, A1: "user-42"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
