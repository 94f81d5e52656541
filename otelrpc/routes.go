package otelrpc

import (
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
	method string // rpc.method: the route, or _OTHER
	other  bool   // method is _OTHER: spans also carry rpc.method_original
	// clientStart and serverStart start spans: kind, name and the
	// attributes samplers may look at.
	clientStart, serverStart []trace.SpanStartOption
	spanName                 string
	active                   metric.MeasurementOption           // rpc.system.name, rpc.method
	ended                    [numCodes]metric.MeasurementOption // and rpc.response.status_code, error.type
}

func newRoute(method string) *route {
	r := &route{method: method, other: method == otherMethod, spanName: method}
	if r.other {
		// The conventions name a span of an unrecognised method after
		// the system.
		r.spanName = systemName
	}
	attrs := []attribute.KeyValue{systemAttr, semconv.RPCMethod(method)}
	r.clientStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
	r.serverStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...)}
	r.active = metric.WithAttributeSet(attribute.NewSet(attrs...))
	for i := range r.ended {
		r.ended[i] = metric.WithAttributeSet(attribute.NewSet(append(attrs[:2:2], endAttrs[i]...)...))
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
		return rs.other
	}
	return rs.add(name)
}

func (rs *routes) add(name string) *route {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	old := *rs.m.Load()
	if r := old[name]; r != nil {
		return r
	}
	if len(old) >= rs.max {
		return rs.other
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
