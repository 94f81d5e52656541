package otelrpc

import (
	"context"
	"math"
	"net"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ServerOption instruments a [runtime.Server]: a server span per call and
// the server's call metrics.
//
//	srv := runtime.NewServer(otelrpc.ServerOption())
//
// It is [runtime.WithObserver] of [NewServerObserver], so it sees every call
// the server answers, those refused before their handler (unknown routes,
// admissions, budgets, undecodable arguments, shutdown) included, each once
// with its final code. A server holds one observer: to add one of your own,
// compose it with NewServerObserver's.
func ServerOption(opts ...Option) runtime.ServerOption {
	return runtime.WithObserver(NewServerObserver(opts...))
}

// NewServerObserver returns the observer of [ServerOption]. Each call gets a
// server span named after its route, the child of the caller's span when
// the call's metadata carries a W3C trace context and the root of a new
// trace when it does not; the span is in the context that admissions,
// interceptors and the handler get, so calls the handler makes join the
// trace. Metrics, by route and final code: the duration of every call
// (rpc.server.call.duration, in seconds, from the moment the server starts
// on the call to its answer), the calls in flight
// (sessionrpc.server.active_calls) and the bytes of requests and responses
// (sessionrpc.server.request.bytes, sessionrpc.server.response.bytes). A route no service registered is recorded as _OTHER.
func NewServerObserver(opts ...Option) runtime.Observer {
	cfg := newConfig(opts)
	// Registered routes are a bounded set: learn them all.
	rs := newRoutes(nil, math.MaxInt)
	in, err := newServerInstruments(cfg.mp, rs)
	if err != nil {
		otel.Handle(err)
	}
	return &server{tracer: cfg.tp.Tracer(scope), prop: cfg.prop, in: in, routes: rs}
}

type server struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	in     serverInstruments
	routes *routes
}

// serverCall is the context of a call being served: the span's, and what
// EndCall needs.
type serverCall struct {
	context.Context
	start time.Time
	r     *route
	span  trace.Span        // nil when the caller's trace is not sampled
	sc    trace.SpanContext // the span's, or the caller's when span is nil
}

type serverCallKey struct{}

func (c *serverCall) Value(key any) any {
	if key == (serverCallKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// StartCall implements [runtime.Observer].
func (s *server) StartCall(ctx context.Context, info runtime.CallInfo) context.Context {
	var r *route
	if info.UnknownRoute {
		r = s.routes.getOther()
	} else {
		r = s.routes.get(info.Route)
	}
	c := &serverCall{start: time.Now(), r: r}
	ctx, parent := extract(ctx, s.prop)
	if unsampled(parent) {
		// The caller's trace is not sampled: follow its decision, as a
		// parent-based sampler would, without a span. Calls the handler
		// makes pass the trace context on as it came.
		c.Context, c.sc = ctx, parent
	} else {
		ctx, span := s.tracer.Start(ctx, r.spanName, r.serverStart...)
		if span.IsRecording() {
			span.SetAttributes(r.spanAttrs...)
			if r.other {
				span.SetAttributes(semconv.RPCMethodOriginal(info.Route))
			}
			if info.Peer != nil {
				setPeer(span, info.Peer)
			}
		}
		c.Context, c.span, c.sc = ctx, span, span.SpanContext()
	}
	r.active.Add(1)
	return c
}

// unsampled reports whether parent is the context of a trace that its root
// decided not to sample.
func unsampled(parent trace.SpanContext) bool {
	return parent.IsValid() && !parent.IsSampled()
}

// EndCall implements [runtime.Observer].
func (s *server) EndCall(ctx context.Context, _ runtime.CallInfo, end runtime.CallEnd) {
	c, ok := ctx.(*serverCall)
	if !ok {
		// Not the context StartCall returned: the runtime promises it
		// is, but a composed observer might wrap it.
		if c, ok = ctx.Value(serverCallKey{}).(*serverCall); !ok {
			return
		}
	}
	c.r.active.Add(-1)
	code := codeIndex(end.Code)
	opt := c.r.ended[code]
	s.in.duration.Record(metricContext(ctx, c.sc), time.Since(c.start).Seconds(), opt...)
	c.r.requestBytes[code].Add(int64(end.RequestBytes))
	c.r.responseBytes[code].Add(int64(end.ResponseBytes))
	if c.span == nil {
		return
	}
	if c.span.IsRecording() {
		c.span.SetAttributes(endAttrs[code]...)
		if serverFault(end.Code) {
			c.span.SetStatus(codes.Error, end.Err.Error())
		}
	}
	c.span.End()
}

// attrPeerIdentity is the caller's identity as the transport authenticated
// it (runtime.Peer.Identity: with mutual TLS, its certificate's CN).
const attrPeerIdentity = "sessionrpc.peer.identity"

// setPeer records who called on a server span: the network address of a
// TCP caller (a NATS caller's address is a reply subject, which says
// nothing), and the identity the transport authenticated.
func setPeer(span trace.Span, p *runtime.Peer) {
	if a, ok := p.Addr.(*net.TCPAddr); ok {
		span.SetAttributes(semconv.NetworkPeerAddress(a.IP.String()), semconv.NetworkPeerPort(a.Port), semconv.NetworkTransportTCP)
	}
	if p.Identity != "" {
		span.SetAttributes(attribute.String(attrPeerIdentity, p.Identity))
	}
}
