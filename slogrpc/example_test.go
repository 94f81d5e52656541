package slogrpc_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/slogrpc"
)

// Failed calls are logged at Warn; successes, at Debug by default, are
// below this handler's level.
func ExampleInterceptor() {
	// Time and duration dropped, so that the output is the same every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	net := runtime.NewInProc()
	srv := runtime.NewServer()
	srv.RegisterService(&desc, nil)
	net.Serve("s", srv)
	client := runtime.NewClient(net, runtime.WithInterceptors(slogrpc.Interceptor(logger)))

	_ = client.Invoke(context.Background(), "s", "test.svc.do", &args{}, nil)
	_ = client.Invoke(context.Background(), "s", "test.svc.do", &args{Fail: true}, nil)
	// Output:
	// level=WARN msg="rpc call" route=test.svc.do server=s code=not_found error="rpc error: not_found: no such thing"
}
