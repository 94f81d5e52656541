package otelrpc_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The metadata a call carries is what the W3C propagator writes for the
// client span, with the tracestate of the trace, whether the client uses
// the default or a propagator of its own.
func TestMetadataIsW3CTraceContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []otelrpc.Option
	}{
		{"default", nil},
		{"composite", []otelrpc.Option{otelrpc.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got runtime.Metadata
			record := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
				got = runtime.MetadataFromContext(ctx)
				return next(ctx, args, result)
			}
			n := runtime.NewInProc()
			srv := runtime.NewServer(runtime.WithInterceptors(record))
			srv.RegisterService(&relayDesc, nil)
			if _, err := n.Serve("s", srv); err != nil {
				t.Fatal(err)
			}
			tr := newTracing(t, sdktrace.AlwaysSample())
			client := runtime.NewClient(n, otelrpc.ClientOption(append(tc.opts, otelrpc.WithTracerProvider(tr.provider(t, "c")))...))

			ts, err := trace.ParseTraceState("vendor=abc,other=1")
			if err != nil {
				t.Fatal(err)
			}
			parent := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5, 6}, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true,
			})
			ctx := trace.ContextWithRemoteSpanContext(ctxFor(t), parent)
			if err := client.Invoke(ctx, "s", routeRelay, &relayArgs{}, &relayResult{}); err != nil {
				t.Fatal(err)
			}
			spans := tr.exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want the client's", len(spans))
			}
			want := propagation.MapCarrier{}
			propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), spans[0].SpanContext), want)
			if diff := cmp.Diff(map[string]string(want), map[string]string(got)); diff != "" {
				t.Errorf("metadata (-W3C propagator +sent):\n%s", diff)
			}
		})
	}
}
