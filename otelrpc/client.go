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
	in, err := newClientInstruments(cfg.mp)
	if err != nil {
		otel.Handle(err)
	}
	c := &client{
		tracer: cfg.tp.Tracer(scope),
		prop:   cfg.prop,
		in:     in,
		routes: newRoutes(cfg.routes, cfg.maxRoutes),
	}
	return c.intercept
}

type client struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	in     clientInstruments
	routes *routes
}

func (c *client) intercept(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
	r := c.routes.get(info.Route)
	start := time.Now()
	ctx, span := c.tracer.Start(ctx, r.spanName, r.clientStart...)
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(semconv.ServerAddress(info.ServerID))
		if r.other {
			span.SetAttributes(semconv.RPCMethodOriginal(info.Route))
		}
	}
	if span.SpanContext().IsValid() {
		ctx = inject(ctx, c.prop)
	}
	c.in.active.Add(ctx, 1, r.active)

	err := next(ctx, args, result)

	code := codeIndex(runtime.CodeOf(err))
	c.in.duration.Record(ctx, time.Since(start).Seconds(), r.ended[code])
	c.in.active.Add(ctx, -1, r.active)
	if recording {
		span.SetAttributes(endAttrs[code]...)
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
	return err
}
