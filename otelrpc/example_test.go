package otelrpc_test

import (
	"context"
	"fmt"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A server and a client instrumented in one line each: the call is one
// trace of two spans, the server's the child of the client's.
func ExampleServerOption() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)) // your exporter here: OTLP, stdout, ...
	defer tp.Shutdown(context.Background())

	net := runtime.NewInProc()
	srv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithTracerProvider(tp)))
	srv.RegisterService(&relayDesc, nil) // a generated RegisterXServer in your code
	net.Serve("game-1", srv)
	client := runtime.NewClient(net, otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))

	if err := client.Invoke(context.Background(), "game-1", "test.relay.call", &relayArgs{}, &relayResult{}); err != nil {
		fmt.Println(err)
		return
	}
	spans := exp.GetSpans() // the server's ends first
	for _, s := range spans {
		fmt.Println(s.Name, s.SpanKind)
	}
	fmt.Println("same trace:", spans[0].SpanContext.TraceID() == spans[1].SpanContext.TraceID())
	fmt.Println("server's parent is the client:", spans[0].Parent.SpanID() == spans[1].SpanContext.SpanID())
	// Output:
	// test.relay.call server
	// test.relay.call client
	// same trace: true
	// server's parent is the client: true
}

// Session metrics of a frontend's store; kick reasons outside the known set
// are counted as "other".
func ExampleStoreOption() {
	reader := sdkmetric.NewManualReader() // or the Prometheus exporter, or a periodic OTLP reader
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	store := session.NewStore("connector-1", otelrpc.StoreOption(otelrpc.WithMeterProvider(mp)))
	for range 3 {
		store.Create(nil)
	}
	store.KickBySID(1, "maintenance")
	store.KickBySID(2, "you said a bad word")

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		sum, ok := m.Data.(metricdata.Sum[int64])
		if !ok {
			continue
		}
		for _, p := range sum.DataPoints {
			if reason, ok := p.Attributes.Value("sessionrpc.kick.reason"); ok {
				fmt.Println(m.Name, reason.Emit(), p.Value)
			} else {
				fmt.Println(m.Name, p.Value)
			}
		}
	}
	// Unordered output:
	// sessionrpc.session.active 1
	// sessionrpc.session.kicks maintenance 1
	// sessionrpc.session.kicks other 1
}
