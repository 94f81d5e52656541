package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// A service as rpcgen generates it, written by hand here so that the
// examples stand alone: a route, argument and result structs, and a handler
// that calls the implementation.
type greeter struct{}

type (
	helloArgs   struct{ A0 string }
	helloResult struct{ R0 string }
)

// ErrNoName is a sentinel: callers match it with errors.Is, whichever side
// of the wire they are on.
var ErrNoName = runtime.NewError(runtime.InvalidArgument, "greeter: no name")

func (greeter) Hello(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", ErrNoName
	}
	if who := runtime.MetadataFromContext(ctx)["caller"]; who != "" {
		return "hello, " + name + ", from " + who, nil
	}
	return "hello, " + name, nil
}

var greeterDesc = runtime.ServiceDesc{Name: "demo.greeter", Methods: []runtime.MethodDesc{{
	Route:     "demo.greeter.hello",
	NewArgs:   func() any { return new(helloArgs) },
	NewResult: func() any { return new(helloResult) },
	Handler: func(ctx context.Context, impl, args, result any) (err error) {
		r := result.(*helloResult)
		r.R0, err = impl.(greeter).Hello(ctx, args.(*helloArgs).A0)
		return err
	},
}}}

// serve serves srv as "hello-1" on a fresh in-process network and returns
// a client of it.
func serve(srv *runtime.Server, opts ...runtime.ClientOption) *runtime.Client {
	srv.RegisterService(&greeterDesc, greeter{})
	net := runtime.NewInProc()
	if _, err := net.Serve("hello-1", srv); err != nil {
		panic(err)
	}
	return runtime.NewClient(net, opts...)
}

// A call through the in-process transport: the same envelope, codec and
// call path as over TCP or NATS.
func Example() {
	c := serve(runtime.NewServer(), runtime.WithDefaultTimeout(10*time.Second))
	var out helloResult
	err := c.Invoke(context.Background(), "hello-1", "demo.greeter.hello", &helloArgs{A0: "ada"}, &out)
	fmt.Println(out.R0, err)
	// Output: hello, ada <nil>
}

// A sentinel made with NewError keeps its identity across the wire.
func ExampleNewError() {
	c := serve(runtime.NewServer())
	err := c.Invoke(context.Background(), "hello-1", "demo.greeter.hello", &helloArgs{}, &helloResult{})
	fmt.Println(errors.Is(err, ErrNoName), runtime.CodeOf(err))
	fmt.Println(err)
	// Output:
	// true invalid_argument
	// rpc error: invalid_argument: greeter: no name
}

// Metadata travels beside the arguments.
func ExampleWithMetadata() {
	c := serve(runtime.NewServer())
	ctx := runtime.WithMetadata(context.Background(), runtime.Metadata{"caller": "backend-1"})
	var out helloResult
	_ = c.Invoke(ctx, "hello-1", "demo.greeter.hello", &helloArgs{A0: "ada"}, &out)
	fmt.Println(out.R0)
	// Output: hello, ada, from backend-1
}

// An interceptor sees every call's route and typed arguments, here on the
// client.
func ExampleWithInterceptors() {
	logCalls := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		err := next(ctx, args, result)
		fmt.Printf("%s(%+v) -> %v\n", info.Route, args, runtime.CodeOf(err))
		return err
	}
	c := serve(runtime.NewServer(), runtime.WithInterceptors(logCalls))
	_ = c.Invoke(context.Background(), "hello-1", "demo.greeter.hello", &helloArgs{A0: "ada"}, &helloResult{})
	_ = c.Invoke(context.Background(), "hello-1", "demo.greeter.hello", &helloArgs{}, &helloResult{})
	// Output:
	// demo.greeter.hello(&{A0:ada}) -> ok
	// demo.greeter.hello(&{A0:}) -> invalid_argument
}

// RequireIdentity is an Admission: it refuses a call before its arguments
// are decoded. The in-process transport authenticates nobody, so every call
// to a route under the prefix is refused.
func ExampleRequireIdentity() {
	srv := runtime.NewServer(runtime.WithAdmission(runtime.RequireIdentity("demo.", "backend-1")))
	c := serve(srv)
	err := c.Invoke(context.Background(), "hello-1", "demo.greeter.hello", &helloArgs{A0: "ada"}, &helloResult{})
	fmt.Println(errors.Is(err, runtime.ErrUnauthenticated))
	fmt.Println(srv.Stats().Refused)
	// Output:
	// true
	// map[unauthenticated:1]
}
