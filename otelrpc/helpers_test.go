package otelrpc_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// quiet is the logger of transports and servers whose logs no test reads.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// patience bounds every call of the tests: generous, for a loaded machine.
const patience = 30 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// The relay service: a call to relay with hops calls the first hop's relay
// with the rest, so that a trace crosses several servers. With no hops left
// it answers Depth 0, or the error Fail names.
const routeRelay = "test.relay.call"

type relayArgs struct {
	Hops []string `json:"hops"`
	Fail bool     `json:"fail"`
}

type relayResult struct {
	Depth int `json:"depth"`
}

var errNoSuchThing = runtime.NewError(runtime.NotFound, "no such thing")

var relayDesc = runtime.ServiceDesc{Name: "test.relay", Methods: []runtime.MethodDesc{{
	Route:     routeRelay,
	NewArgs:   func() any { return new(relayArgs) },
	NewResult: func() any { return new(relayResult) },
	Handler: func(ctx context.Context, impl, args, result any) error {
		a := args.(*relayArgs)
		if len(a.Hops) == 0 {
			if a.Fail {
				return errNoSuchThing
			}
			return nil
		}
		var out relayResult
		if err := impl.(runtime.Invoker).Invoke(ctx, a.Hops[0], routeRelay, &relayArgs{Hops: a.Hops[1:], Fail: a.Fail}, &out); err != nil {
			return err
		}
		result.(*relayResult).Depth = out.Depth + 1
		return nil
	},
}}}

// network is one transport the tests run over: servers by id, and client
// transports that reach them.
type network struct {
	name string
	// serve serves srv as id until the test ends.
	serve func(t *testing.T, id string, srv *runtime.Server)
	// transport returns a client transport, closed when the test ends.
	transport func(t *testing.T) runtime.Transport
}

func inProcNetwork(*testing.T) network {
	n := runtime.NewInProc()
	return network{
		name: "inproc",
		serve: func(t *testing.T, id string, srv *runtime.Server) {
			s, err := n.Serve(id, srv)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
		},
		transport: func(*testing.T) runtime.Transport { return n },
	}
}

func tcpNetwork(*testing.T) network {
	res := tcp.NewStaticResolver(nil)
	return network{
		name: "tcp",
		serve: func(t *testing.T, id string, srv *runtime.Server) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ts := tcp.NewServer(srv, tcp.WithLogger(quiet))
			go func() { _ = ts.Serve(ln) }()
			res.Set(id, ln.Addr().String())
			t.Cleanup(func() { _ = ts.Close() })
		},
		transport: func(t *testing.T) runtime.Transport {
			tr := tcp.NewTransport(res, tcp.WithLogger(quiet))
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}

func natsNetwork(t *testing.T) network {
	ns, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	connect := func(t *testing.T) *nats.Conn {
		nc, err := natsrpc.Connect(ns.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	return network{
		name: "nats",
		serve: func(t *testing.T, id string, srv *runtime.Server) {
			s, err := natsrpc.Serve(connect(t), id, srv, natsrpc.WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
		},
		transport: func(t *testing.T) runtime.Transport {
			tr := natsrpc.NewTransport(connect(t), natsrpc.WithLogger(quiet))
			t.Cleanup(tr.Close)
			return tr
		},
	}
}

// networks are the transports every cross-server test runs over.
var networks = []func(*testing.T) network{inProcNetwork, tcpNetwork, natsNetwork}

// tracing records the spans of several servers, each with a tracer
// provider of its own as in separate processes, in one exporter.
type tracing struct {
	exp     *tracetest.InMemoryExporter
	sampler sdktrace.Sampler
}

func newTracing(t *testing.T, sampler sdktrace.Sampler) *tracing {
	return &tracing{exp: tracetest.NewInMemoryExporter(), sampler: sampler}
}

// provider returns the tracer provider of the server (or process) id.
func (tr *tracing) provider(t *testing.T, id string) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(tr.exp),
		sdktrace.WithSampler(tr.sampler),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceInstanceID(id))),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// instance returns the server that recorded a span.
func instance(s tracetest.SpanStub) string {
	v, _ := s.Resource.Set().Value(semconv.ServiceInstanceIDKey)
	return v.AsString()
}

// attr returns the value of a span's attribute, or "" if it has none.
func attr(s tracetest.SpanStub, key attribute.Key) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// metrics reads what a meter provider recorded.
type metrics struct {
	reader *metric.ManualReader
	mp     *metric.MeterProvider
}

func newMetrics(t *testing.T) *metrics {
	r := metric.NewManualReader()
	mp := metric.NewMeterProvider(metric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &metrics{reader: r, mp: mp}
}

// collect returns every metric recorded so far, by name.
func (m *metrics) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			out[mt.Name] = mt
		}
	}
	return out
}

// point is one data point of a metric, whatever its kind, reduced to what
// the tests compare: its attributes as "k=v" pairs, and its count (for
// histograms) or value (for sums).
type point struct {
	Attrs string
	N     int64
	Sum   float64
}

// points returns the data points of m, sorted by attributes.
func points(m metricdata.Metrics) map[string]point {
	out := make(map[string]point)
	add := func(set attribute.Set, n int64, sum float64) {
		k := attrString(set)
		out[k] = point{Attrs: k, N: n, Sum: sum}
	}
	switch d := m.Data.(type) {
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			add(p.Attributes, int64(p.Count), p.Sum)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			add(p.Attributes, int64(p.Count), float64(p.Sum))
		}
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			add(p.Attributes, p.Value, float64(p.Value))
		}
	}
	return out
}

// attrString renders an attribute set as "k=v,k=v" in key order.
func attrString(set attribute.Set) string {
	s := ""
	for _, kv := range set.ToSlice() {
		if s != "" {
			s += ","
		}
		s += string(kv.Key) + "=" + kv.Value.Emit()
	}
	return s
}
