package main

import (
	"context"
	"sync/atomic"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newTCPOtel1Pct is sessionrpc-tcp-otel-1pct: sessionrpc-tcp with tracing
// and metrics on both sides, as a production cluster would run them: a
// parent-based sampler that samples 1% of new traces, a batching span
// processor, and a meter provider whose reader is collected from time to
// time (here never: aggregating is the cost a call pays).
func newTCPOtel1Pct(*env) (target, error) {
	return newTCPOtel("sessionrpc-tcp-otel-1pct", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)))
}

// newTCPOtelAlways is sessionrpc-tcp-otel-always: the same, every call traced.
func newTCPOtelAlways(*env) (target, error) {
	return newTCPOtel("sessionrpc-tcp-otel-always", sdktrace.AlwaysSample())
}

func newTCPOtel(name string, sampler sdktrace.Sampler) (target, error) {
	exp := &discardExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(exp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	opts := []otelrpc.Option{otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp)}

	srv := runtime.NewServer(runtime.WithLogger(quiet), otelrpc.ServerOption(opts...))
	RegisterEchoServer(srv, echoServer{})
	tr, stop, err := serveTCP(srv)
	if err != nil {
		return nil, err
	}
	client := NewEchoClient(runtime.NewClient(tr, otelrpc.ClientOption(opts...)))
	return &echoTarget{peer: name, client: client, stop: func() {
		stop()
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}}, nil
}

// discardExporter is the span exporter of the otel peers: it counts the
// spans a batch hands it and drops them, so that the figures are the cost
// of the instrumentation and not of an exporter's network.
type discardExporter struct{ spans atomic.Int64 }

func (e *discardExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.spans.Add(int64(len(spans)))
	return nil
}

func (e *discardExporter) Shutdown(context.Context) error { return nil }
