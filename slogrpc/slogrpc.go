// Package slogrpc logs sessionrpc calls with log/slog: one record per call,
// on clients and servers alike, with the route, the other end, the code,
// the duration and, when the call is traced, its trace_id and span_id.
//
//	client := runtime.NewClient(tr, otelrpc.ClientOption(), runtime.WithInterceptors(slogrpc.Interceptor(logger)))
//	srv := runtime.NewServer(otelrpc.ServerOption(), runtime.WithInterceptors(slogrpc.Interceptor(logger)))
//
// Failed calls are logged at Warn and successful ones at Debug, so that
// with a handler at Info only failures are logged; [WithLevel] and
// [WithSampling] keep a log of successes affordable in production. A
// handler's panic is not logged again: the server logged it once, with its
// stack.
//
// On a client, give it after otelrpc's interceptor, so that it runs inside
// the call's span and logs its ids. On a server it sees the calls that reach
// the handler; the calls a server refuses before (unknown routes,
// admissions, budgets) are counted by otelrpc's metrics and
// [runtime.Server.Stats].
package slogrpc

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures [Interceptor].
type Option func(*config)

type config struct {
	level, errLevel slog.Level
	every           uint64
}

// WithLevel sets the level of the records of successful calls; the default
// is slog.LevelDebug.
func WithLevel(l slog.Level) Option { return func(c *config) { c.level = l } }

// WithErrorLevel sets the level of the records of failed calls; the default
// is slog.LevelWarn.
func WithErrorLevel(l slog.Level) Option { return func(c *config) { c.errLevel = l } }

// WithSampling logs one successful call in every n (n ≤ 1: all of them).
// Failed calls are always logged.
func WithSampling(n int) Option {
	return func(c *config) { c.every = uint64(max(n, 1)) }
}

// Interceptor returns an interceptor that logs every call to log: the
// message "rpc call" on a client and "rpc served" on a server, and the
// attributes route, server (the target, on a client) or peer (the caller's
// authenticated identity or address, on a server, when the transport knows
// it), code, duration, error (on failure), trace_id and span_id (when the
// call's context holds a valid span).
func Interceptor(log *slog.Logger, opts ...Option) runtime.Interceptor {
	c := &config{level: slog.LevelDebug, errLevel: slog.LevelWarn, every: 1}
	for _, o := range opts {
		o(c)
	}
	l := &logger{log: log, config: *c}
	return l.intercept
}

type logger struct {
	log *slog.Logger
	config
	n atomic.Uint64 // successful calls, for sampling
}

func (l *logger) intercept(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
	okOn, errOn := l.log.Enabled(ctx, l.level), l.log.Enabled(ctx, l.errLevel)
	if !okOn && !errOn {
		return next(ctx, args, result)
	}
	start := time.Now()
	err := next(ctx, args, result)
	d := time.Since(start)
	level := l.level
	switch {
	case err == nil:
		if !okOn || (l.every > 1 && l.n.Add(1)%l.every != 0) {
			return nil
		}
	case info.Server && errors.Is(err, runtime.ErrPanicked):
		// The server logged the panic once, with its stack.
		return err
	case !errOn:
		return err
	default:
		level = l.errLevel
	}
	l.write(ctx, level, info, err, d)
	return err
}

func (l *logger) write(ctx context.Context, level slog.Level, info runtime.CallInfo, err error, d time.Duration) {
	msg := "rpc call"
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("route", info.Route))
	if info.Server {
		msg = "rpc served"
		if p := info.Peer; p != nil {
			switch {
			case p.Identity != "":
				attrs = append(attrs, slog.String("peer", p.Identity))
			case p.Addr != nil:
				attrs = append(attrs, slog.String("peer", p.Addr.String()))
			}
		}
	} else {
		attrs = append(attrs, slog.String("server", info.ServerID))
	}
	attrs = append(attrs, slog.String("code", runtime.CodeOf(err).String()), slog.Duration("duration", d))
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}
