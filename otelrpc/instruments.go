package otelrpc

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
)

// scope is the instrumentation scope of every tracer and meter here.
const scope = "github.com/sessionrpc/sessionrpc/otelrpc"

// durationBuckets are the bucket bounds of call durations, in seconds. The
// conventions' advice starts at 5 ms, which would put nearly every call
// between servers of one cluster in the first bucket: these start at 50 µs.
var durationBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Names of the metrics the conventions do not define.
const (
	metricClientActive  = "sessionrpc.client.active_calls"
	metricServerActive  = "sessionrpc.server.active_calls"
	metricRequestBytes  = "sessionrpc.server.request.bytes"
	metricResponseBytes = "sessionrpc.server.response.bytes"
)

// clientInstruments are the metrics of calls made.
type clientInstruments struct {
	duration metric.Float64Histogram
}

// newClientInstruments makes the metrics of a client whose routes are rs.
func newClientInstruments(mp metric.MeterProvider, rs *routes) (clientInstruments, error) {
	m := mp.Meter(scope)
	var conv rpcconv.ClientCallDuration
	d, err := m.Float64Histogram(conv.Name(), metric.WithUnit(conv.Unit()), metric.WithDescription(conv.Description()),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		return clientInstruments{}, err
	}
	active, err := m.Int64ObservableUpDownCounter(metricClientActive, metric.WithUnit("{call}"),
		metric.WithDescription("Calls made and not yet answered."))
	if err != nil {
		return clientInstruments{}, err
	}
	return clientInstruments{duration: d}, observe(m, active, rs.observeActive)
}

// serverInstruments are the metrics of calls served that a call records
// itself; the others are observed from counts the routes keep.
type serverInstruments struct {
	duration metric.Float64Histogram
}

// newServerInstruments makes the metrics of a server whose routes are rs.
func newServerInstruments(mp metric.MeterProvider, rs *routes) (serverInstruments, error) {
	m := mp.Meter(scope)
	var conv rpcconv.ServerCallDuration
	var in serverInstruments
	var err error
	if in.duration, err = m.Float64Histogram(conv.Name(), metric.WithUnit(conv.Unit()), metric.WithDescription(conv.Description()),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return in, err
	}
	active, err := m.Int64ObservableUpDownCounter(metricServerActive, metric.WithUnit("{call}"),
		metric.WithDescription("Calls being served: arrived and not yet answered."))
	if err != nil {
		return in, err
	}
	if err := observe(m, active, rs.observeActive); err != nil {
		return in, err
	}
	req, err := m.Int64ObservableCounter(metricRequestBytes, metric.WithUnit("By"),
		metric.WithDescription("Bytes of the request envelopes served: route, metadata and encoded arguments."))
	if err != nil {
		return in, err
	}
	if err := observe(m, req, rs.observeBytes(func(r *route) *[numCodes]atomic.Int64 { return &r.requestBytes })); err != nil {
		return in, err
	}
	resp, err := m.Int64ObservableCounter(metricResponseBytes, metric.WithUnit("By"),
		metric.WithDescription("Bytes of the encoded results sent; errors and methods that return only an error send none."))
	if err != nil {
		return in, err
	}
	return in, observe(m, resp, rs.observeBytes(func(r *route) *[numCodes]atomic.Int64 { return &r.responseBytes }))
}

// observe registers f to observe inst at every collection. A callback given
// with the instrument itself would apply only to the first instrument of
// that name the meter made (the SDK hands the same instrument to later
// callers and ignores their callbacks), and a process may make several
// clients and servers.
func observe(m metric.Meter, inst metric.Int64Observable, f metric.Int64Callback) error {
	_, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		return f(ctx, int64Observer{o: o, inst: inst})
	}, inst)
	return err
}

// int64Observer observes one instrument through a registered callback's
// Observer.
type int64Observer struct {
	embedded.Int64Observer
	o    metric.Observer
	inst metric.Int64Observable
}

func (x int64Observer) Observe(v int64, opts ...metric.ObserveOption) {
	x.o.ObserveInt64(x.inst, v, opts...)
}
