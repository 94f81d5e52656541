package otelrpc_test

import (
	"fmt"
	"testing"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// A flood of made-up routes adds one series to the server's metrics:
// _OTHER. Spans keep the route they had, in rpc.method_original.
func TestUnknownRoutesOnServerAreOther(t *testing.T) {
	m := newMetrics(t)
	tr := newTracing(t, sdktrace.AlwaysSample())
	n := inProcNetwork(t)
	srv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithMeterProvider(m.mp), otelrpc.WithTracerProvider(tr.provider(t, "s"))))
	srv.RegisterService(&relayDesc, nil)
	n.serve(t, "s", srv)
	client := runtime.NewClient(n.transport(t)) // uninstrumented: only the server records
	ctx := ctxFor(t)
	const flood = 500
	for i := range flood {
		if err := client.Invoke(ctx, "s", fmt.Sprintf("made.up.route%d", i), &relayArgs{}, nil); runtime.CodeOf(err) != runtime.Unimplemented {
			t.Fatalf("made-up route: %v", err)
		}
	}
	if err := client.Invoke(ctx, "s", routeRelay, &relayArgs{}, &relayResult{}); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, m.collect(t), "rpc.server.call.duration", map[string]int64{otherUnimpl: flood, okRelay: 1})
	spans := tr.exp.GetSpans()
	if len(spans) != flood+1 {
		t.Fatalf("%d spans, want %d", len(spans), flood+1)
	}
	for i, s := range spans[:flood] {
		if s.Name != "sessionrpc" || attr(s, semconv.RPCMethodKey) != "_OTHER" || attr(s, semconv.RPCMethodOriginalKey) != fmt.Sprintf("made.up.route%d", i) {
			t.Fatalf("span of made-up route %d: name %q, rpc.method %q, rpc.method_original %q", i, s.Name,
				attr(s, semconv.RPCMethodKey), attr(s, semconv.RPCMethodOriginalKey))
		}
	}
}

// A client records at most WithMaxRoutes routes under their own names, and
// with WithRoutes only those listed.
func TestClientRoutesAreBounded(t *testing.T) {
	n := inProcNetwork(t)
	srv := runtime.NewServer()
	srv.RegisterService(&relayDesc, nil)
	n.serve(t, "s", srv)
	nope := func(i int) string { return fmt.Sprintf("test.relay.nope%d", i) }
	series := func(i int) string {
		return fmt.Sprintf("error.type=UNIMPLEMENTED,rpc.method=%s,rpc.response.status_code=UNIMPLEMENTED,rpc.system.name=sessionrpc", nope(i))
	}
	for _, tc := range []struct {
		name string
		opt  otelrpc.Option
		want map[string]int64
	}{
		{"max routes", otelrpc.WithMaxRoutes(3), map[string]int64{series(0): 1, series(1): 1, series(2): 1, otherUnimpl: 97}},
		{"listed routes", otelrpc.WithRoutes(nope(5), nope(6)), map[string]int64{series(5): 1, series(6): 1, otherUnimpl: 98}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(t)
			client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithMeterProvider(m.mp), tc.opt))
			for i := range 100 {
				_ = client.Invoke(ctxFor(t), "s", nope(i), &relayArgs{}, nil)
			}
			wantCounts(t, m.collect(t), "rpc.client.call.duration", tc.want)
		})
	}
}
