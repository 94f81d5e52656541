package otelrpc

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// systemName is this RPC system's rpc.system.name. The conventions list
// grpc, dubbo, connectrpc and jsonrpc, and allow others.
const systemName = "sessionrpc"

// otherMethod is rpc.method for a route not recognised: the conventions'
// name for it.
const otherMethod = "_OTHER"

// numCodes is the number of runtime status codes; a code past them (none
// should reach us) is recorded as Unknown.
const numCodes = int(runtime.Unauthenticated) + 1

func codeIndex(c runtime.Code) int {
	if int(c) >= numCodes {
		return int(runtime.Unknown)
	}
	return int(c)
}

// statusCodes are the rpc.response.status_code values: the codes' names
// in the form gRPC uses ("OK", "NOT_FOUND"), so that dashboards made for
// gRPC read them.
var statusCodes = func() (s [numCodes]string) {
	for i := range s {
		s[i] = strings.ToUpper(runtime.Code(i).String())
	}
	return s
}()

var systemAttr = attribute.String(string(semconv.RPCSystemNameKey), systemName)

// endAttrs are the span attributes set when a call ends with each code.
var endAttrs = func() (a [numCodes][]attribute.KeyValue) {
	for i := range a {
		a[i] = []attribute.KeyValue{semconv.RPCResponseStatusCode(statusCodes[i])}
		if i != int(runtime.OK) {
			a[i] = append(a[i], semconv.ErrorTypeKey.String(statusCodes[i]))
		}
	}
	return a
}()

// serverFault reports whether a server span ends with an error status for
// code: only when the server is at fault, as the gRPC conventions have it.
// A client span ends in error for every code but OK.
func serverFault(c runtime.Code) bool {
	switch c {
	case runtime.Unknown, runtime.DeadlineExceeded, runtime.Unimplemented, runtime.Internal, runtime.Unavailable, runtime.DataLoss:
		return true
	}
	return false
}

// route is what the instrumentation records a route as, computed once per
// route so that a call allocates nothing for its attributes.
type route struct {
	method   string // rpc.method: the route, or _OTHER
	other    bool   // method is _OTHER: spans also carry rpc.method_original
	spanName string
	// clientStart and serverStart start spans: their kind.
	clientStart, serverStart []trace.SpanStartOption
	spanAttrs                []attribute.KeyValue // rpc.system.name, rpc.method
	// active counts the calls in flight; an observable counter reports
	// it, with activeAttrs (rpc.system.name, rpc.method), when metrics are
	// collected, so that a call pays an atomic add rather than two
	// measurements.
	active      atomic.Int64
	activeAttrs metric.ObserveOption
	// ended are the attributes of calls that ended, by code
	// (rpc.system.name, rpc.method, rpc.response.status_code, error.type),
	// each alone in a slice so that passing it allocates nothing.
	ended [numCodes][]metric.RecordOption
	// endedObs are ended's attributes, for observable instruments.
	endedObs [numCodes]metric.ObserveOption
	// requestBytes and responseBytes add up the sizes of the calls that
	// ended, by code, for observable counters (a server's only).
	requestBytes, responseBytes [numCodes]atomic.Int64
}

func newRoute(method string) *route {
	r := &route{method: method, other: method == otherMethod, spanName: method}
	if r.other {
		// The conventions name a span of an unrecognised method after
		// the system.
		r.spanName = systemName
	}
	r.spanAttrs = []attribute.KeyValue{systemAttr, semconv.RPCMethod(method)}
	// The attributes are set once a span is known to record, not given
	// to Start: that would cost every call two allocations, sampled or
	// not. Samplers see the route in the span's name.
	r.clientStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	r.serverStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	r.activeAttrs = metric.WithAttributeSet(attribute.NewSet(r.spanAttrs...))
	for i := range r.ended {
		set := metric.WithAttributeSet(attribute.NewSet(append(r.spanAttrs[:2:2], endAttrs[i]...)...))
		r.ended[i] = []metric.RecordOption{set}
		r.endedObs[i] = set
	}
	return r
}

// routes maps route names to what they are recorded as. Reads take no lock:
// the map is replaced, never changed, when a route is added.
type routes struct {
	m     atomic.Pointer[map[string]*route]
	mu    sync.Mutex // serialises additions
	learn bool       // add routes not yet known, up to max
	max   int
	other *route
	// otherUsed is set once a call has been recorded as _OTHER: from
	// then on its count of calls in flight is reported, 0 included.
	otherUsed atomic.Bool
}

// newRoutes returns the routes of a client: known lists the recognised
// routes; with none, the first max distinct routes are learned.
func newRoutes(known []string, max int) *routes {
	rs := &routes{other: newRoute(otherMethod), learn: known == nil, max: max}
	m := make(map[string]*route, len(known))
	for _, name := range known {
		m[name] = newRoute(name)
	}
	rs.m.Store(&m)
	return rs
}

// get returns how name is recorded: its own entry, or _OTHER for a route
// that is not recognised (and not learned, as it came past max).
func (rs *routes) get(name string) *route {
	if r := (*rs.m.Load())[name]; r != nil {
		return r
	}
	if !rs.learn {
		return rs.getOther()
	}
	return rs.add(name)
}

// getOther returns the _OTHER route.
func (rs *routes) getOther() *route {
	if !rs.otherUsed.Load() {
		rs.otherUsed.Store(true)
	}
	return rs.other
}

func (rs *routes) add(name string) *route {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	old := *rs.m.Load()
	if r := old[name]; r != nil {
		return r
	}
	if len(old) >= rs.max {
		return rs.getOther()
	}
	m := make(map[string]*route, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	r := newRoute(name)
	m[name] = r
	rs.m.Store(&m)
	return r
}

// observeActive reports the calls in flight of every route to o.
func (rs *routes) observeActive(_ context.Context, o metric.Int64Observer) error {
	for _, r := range *rs.m.Load() {
		o.Observe(r.active.Load(), r.activeAttrs)
	}
	if n := rs.other.active.Load(); n != 0 || rs.otherUsed.Load() {
		o.Observe(n, rs.other.activeAttrs)
	}
	return nil
}

// observeBytes returns the callback of an observable counter of the bytes
// that bytes picks out of each route: it reports every route and code with
// bytes counted.
func (rs *routes) observeBytes(bytes func(*route) *[numCodes]atomic.Int64) metric.Int64Callback {
	return func(_ context.Context, o metric.Int64Observer) error {
		observe := func(r *route) {
			counts := bytes(r)
			for code := range counts {
				if n := counts[code].Load(); n != 0 {
					o.Observe(n, r.endedObs[code])
				}
			}
		}
		for _, r := range *rs.m.Load() {
			observe(r)
		}
		observe(rs.other)
		return nil
	}
}
