package main

import (
	"context"
	"sync/atomic"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
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

// The parts of the cost, each alone (extra peers too):
//
//   - sessionrpc-tcp-otel-traces: tracing as in -1pct, metrics off;
//   - sessionrpc-tcp-otel-metrics: metrics on, tracing off;
//   - sessionrpc-tcp-traceparent: no instrumentation, but every call
//     carries a traceparent in its metadata, as a traced call does: what
//     the runtime's metadata path costs.
func newTCPOtelTraces(*env) (target, error) {
	return newTCPOtelParts("sessionrpc-tcp-otel-traces", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)), false)
}

func newTCPOtelMetrics(*env) (target, error) {
	return newTCPOtelParts("sessionrpc-tcp-otel-metrics", nil, true)
}

func newTCPOtel(name string, sampler sdktrace.Sampler) (target, error) {
	return newTCPOtelParts(name, sampler, true)
}

// newTCPOtelParts is sessionrpc-tcp instrumented with otelrpc on both
// sides: tracing with sampler unless it is nil, metrics if asked.
func newTCPOtelParts(name string, sampler sdktrace.Sampler, metrics bool) (target, error) {
	var opts []otelrpc.Option
	var shutdown []func(context.Context) error
	if sampler != nil {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(&discardExporter{}))
		opts = append(opts, otelrpc.WithTracerProvider(tp))
		shutdown = append(shutdown, tp.Shutdown)
	} else {
		opts = append(opts, otelrpc.WithTracerProvider(tracenoop.NewTracerProvider()))
	}
	if metrics {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		opts = append(opts, otelrpc.WithMeterProvider(mp))
		shutdown = append(shutdown, mp.Shutdown)
	} else {
		opts = append(opts, otelrpc.WithMeterProvider(metricnoop.NewMeterProvider()))
	}

	srv := runtime.NewServer(runtime.WithLogger(quiet), otelrpc.ServerOption(opts...))
	RegisterEchoServer(srv, echoServer{})
	tr, stop, err := serveTCP(srv)
	if err != nil {
		return nil, err
	}
	client := NewEchoClient(runtime.NewClient(tr, otelrpc.ClientOption(opts...)))
	return &echoTarget{peer: name, client: client, stop: func() {
		stop()
		for _, f := range shutdown {
			_ = f(context.Background())
		}
	}}, nil
}

// newTCPTraceparent is sessionrpc-tcp-traceparent: see above.
func newTCPTraceparent(*env) (target, error) {
	tr, stop, err := serveTCP(newEchoServer())
	if err != nil {
		return nil, err
	}
	return &traceparentTarget{echoTarget{peer: "sessionrpc-tcp-traceparent", client: NewEchoClient(runtime.NewClient(tr)), stop: stop}}, nil
}

// traceparentTarget is an echoTarget whose calls carry an unsampled W3C
// traceparent, as otelrpc's client would add.
type traceparentTarget struct{ echoTarget }

var traceparent = runtime.Metadata{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}

func (t *traceparentTarget) call(ctx context.Context) error {
	return t.echoTarget.call(runtime.WithMetadata(ctx, traceparent))
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
