package otelrpc

import (
	"context"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ClientOption instruments a [runtime.Client]: a client span per call and
// the call's trace context in its metadata, and the client's call metrics.
//
//	client := runtime.NewClient(tr, otelrpc.ClientOption())
//
// It is [runtime.WithInterceptors] of [ClientInterceptor]: interceptors
// given after it run inside the call's span (a slog interceptor given after
// it logs the span's ids).
func ClientOption(opts ...Option) runtime.ClientOption {
	return runtime.WithInterceptors(ClientInterceptor(opts...))
}

// ClientInterceptor returns the interceptor of [ClientOption], for clients
// that order their interceptors themselves. Each call gets a client span
// named after its route, a child of the span in the caller's context if
// there is one, and carries that span's W3C trace context in its metadata,
// so that the server's span joins the trace. Metrics: the duration of
// every call (rpc.client.call.duration, in seconds) and the calls in flight
// (sessionrpc.client.active_calls), by route and final code.
//
// Use it on clients only: a server records its calls with [ServerOption].
func ClientInterceptor(opts ...Option) runtime.Interceptor {
	cfg := newConfig(opts)
	rs := newRoutes(cfg.routes, cfg.maxRoutes)
	in, err := newClientInstruments(cfg.mp, rs)
	if err != nil {
		otel.Handle(err)
	}
	_, w3c := cfg.prop.(propagation.TraceContext)
	c := &client{tracer: cfg.tp.Tracer(scope), prop: cfg.prop, w3c: w3c, in: in, routes: rs}
	return c.intercept
}

type client struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	w3c    bool // prop is W3C Trace Context alone
	in     clientInstruments
	routes *routes
}

func (c *client) intercept(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
	r := c.routes.get(info.Route)
	start := time.Now()
	var span trace.Span
	sc := trace.SpanContextFromContext(ctx)
	if !unsampled(sc) {
		ctx, span = c.tracer.Start(ctx, r.spanName, r.clientStart...)
		sc = span.SpanContext()
	}
	// Else the trace is not sampled: follow its root's decision, as a
	// parent-based sampler would, without a span, and pass the trace
	// context on as it is.
	recording := span != nil && span.IsRecording()
	if recording {
		span.SetAttributes(r.spanAttrs...)
		span.SetAttributes(semconv.ServerAddress(info.ServerID))
		if r.other {
			span.SetAttributes(semconv.RPCMethodOriginal(info.Route))
		}
	}
	if sc.IsValid() {
		if c.w3c {
			ctx = injectW3C(ctx, sc)
		} else {
			ctx = inject(ctx, c.prop)
		}
	}
	r.active.Add(1)

	err := next(ctx, args, result)

	r.active.Add(-1)
	code := codeIndex(runtime.CodeOf(err))
	c.in.duration.Record(metricContext(ctx, sc), time.Since(start).Seconds(), r.ended[code]...)
	if recording {
		span.SetAttributes(endAttrs[code]...)
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	if span != nil {
		span.End()
	}
	return err
}

// metricContext returns the context to record a call's metrics in: its own
// when its span is sampled, so that exemplars link the metrics to the
// trace, and an empty one otherwise, which spares every measurement a walk
// up the call's context looking for a span.
func metricContext(ctx context.Context, sc trace.SpanContext) context.Context {
	if sc.IsSampled() {
		return ctx
	}
	return context.Background()
}
