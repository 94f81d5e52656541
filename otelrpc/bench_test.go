package otelrpc_test

import (
	"context"
	"testing"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The cost of the instrumentation on an in-process call, client and server
// together: compare the allocations and ns/op of the three.
func BenchmarkInProcPlain(b *testing.B) { benchInProc(b, nil) }

func BenchmarkInProcOtel1Pct(b *testing.B) {
	benchInProc(b, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)))
}

func BenchmarkInProcOtelAlways(b *testing.B) { benchInProc(b, sdktrace.AlwaysSample()) }

func benchInProc(b *testing.B, sampler sdktrace.Sampler) {
	c := benchClient(b, sampler)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var out relayResult
		if err := c.Invoke(ctx, "s", routeRelay, &relayArgs{}, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// benchClient serves the relay in-process, instrumented with a batching
// span processor and the given sampler unless it is nil, and returns a
// client of it, instrumented alike.
func benchClient(b *testing.B, sampler sdktrace.Sampler) *runtime.Client {
	var sopts []runtime.ServerOption
	var copts []runtime.ClientOption
	if sampler != nil {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
		opts := []otelrpc.Option{otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp)}
		sopts = append(sopts, otelrpc.ServerOption(opts...))
		copts = append(copts, otelrpc.ClientOption(opts...))
	}
	n := runtime.NewInProc()
	srv := runtime.NewServer(sopts...)
	srv.RegisterService(&relayDesc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		b.Fatal(err)
	}
	return runtime.NewClient(n, copts...)
}

// The same under 64 concurrent callers, where locks would show.
func BenchmarkInProcParallelPlain(b *testing.B) { benchInProcParallel(b, nil) }

func BenchmarkInProcParallelOtel1Pct(b *testing.B) {
	benchInProcParallel(b, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)))
}

func benchInProcParallel(b *testing.B, sampler sdktrace.Sampler) {
	c := benchClient(b, sampler)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var out relayResult
			if err := c.Invoke(ctx, "s", routeRelay, &relayArgs{}, &out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
