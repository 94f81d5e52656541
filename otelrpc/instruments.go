package otelrpc

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
)

// scope is the instrumentation scope of every tracer and meter here.
const scope = "github.com/sessionrpc/sessionrpc/otelrpc"

// durationBuckets are the bucket bounds of call durations, in seconds. The
// conventions' advice starts at 5 ms, which would put nearly every call
// between servers of one cluster in the first bucket: these start at 50 µs.
var durationBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// sizeBuckets are the bucket bounds of request and response sizes, in bytes,
// up to the default payload limit (4 MiB).
var sizeBuckets = []float64{0, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}

// Names of the metrics the conventions do not define.
const (
	metricClientActive = "sessionrpc.client.active_calls"
	metricServerActive = "sessionrpc.server.active_calls"
	metricRequestSize  = "sessionrpc.server.request.size"
	metricResponseSize = "sessionrpc.server.response.size"
)

// clientInstruments are the metrics of calls made.
type clientInstruments struct {
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
}

func newClientInstruments(mp metric.MeterProvider) (clientInstruments, error) {
	m := mp.Meter(scope)
	var conv rpcconv.ClientCallDuration
	d, err := m.Float64Histogram(conv.Name(), metric.WithUnit(conv.Unit()), metric.WithDescription(conv.Description()),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		return clientInstruments{}, err
	}
	a, err := m.Int64UpDownCounter(metricClientActive, metric.WithUnit("{call}"),
		metric.WithDescription("Calls made and not yet answered."))
	return clientInstruments{duration: d, active: a}, err
}

// serverInstruments are the metrics of calls served.
type serverInstruments struct {
	duration          metric.Float64Histogram
	active            metric.Int64UpDownCounter
	request, response metric.Int64Histogram
}

func newServerInstruments(mp metric.MeterProvider) (serverInstruments, error) {
	m := mp.Meter(scope)
	var conv rpcconv.ServerCallDuration
	var in serverInstruments
	var err error
	if in.duration, err = m.Float64Histogram(conv.Name(), metric.WithUnit(conv.Unit()), metric.WithDescription(conv.Description()),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return in, err
	}
	if in.active, err = m.Int64UpDownCounter(metricServerActive, metric.WithUnit("{call}"),
		metric.WithDescription("Calls being served: arrived and not yet answered.")); err != nil {
		return in, err
	}
	if in.request, err = m.Int64Histogram(metricRequestSize, metric.WithUnit("By"),
		metric.WithDescription("Size of request envelopes served: route, metadata and encoded arguments."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return in, err
	}
	in.response, err = m.Int64Histogram(metricResponseSize, metric.WithUnit("By"),
		metric.WithDescription("Size of encoded results sent; 0 for errors and methods that return only an error."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...))
	return in, err
}
