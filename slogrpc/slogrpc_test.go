package slogrpc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/slogrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// records is a slog.Handler that keeps every record, its attributes
// rendered as strings; durations are replaced by "d" when positive.
type records struct {
	level slog.Level
	mu    sync.Mutex
	got   []record
}

type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (h *records) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *records) Handle(_ context.Context, r slog.Record) error {
	rec := record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.String()
		if a.Value.Kind() == slog.KindDuration && a.Value.Duration() > 0 {
			v = "d"
		}
		rec.Attrs[a.Key] = v
		return true
	})
	h.mu.Lock()
	h.got = append(h.got, rec)
	h.mu.Unlock()
	return nil
}

func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) take() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}

var errNoSuchThing = runtime.NewError(runtime.NotFound, "no such thing")

type args struct {
	Fail, Panic bool
}

var desc = runtime.ServiceDesc{Name: "test.svc", Methods: []runtime.MethodDesc{{
	Route:   "test.svc.do",
	NewArgs: func() any { return new(args) },
	Handler: func(_ context.Context, _, a, _ any) error {
		switch {
		case a.(*args).Panic:
			panic("secret")
		case a.(*args).Fail:
			return errNoSuchThing
		}
		return nil
	},
}}}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup serves desc as "s" in-process, logging server and client calls to
// one handler, with the options given to both interceptors.
func setup(t *testing.T, h slog.Handler, opts ...slogrpc.Option) *runtime.Client {
	n := runtime.NewInProc()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := runtime.NewServer(runtime.WithLogger(quiet), runtime.WithInterceptors(slogrpc.Interceptor(slog.New(h), opts...)))
	srv.RegisterService(&desc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	return runtime.NewClient(n, runtime.WithInterceptors(slogrpc.Interceptor(slog.New(h), opts...)))
}

// One record per call on each side: successes at the chosen level, errors
// at Warn with the error; a panic is logged by the client only (the server
// logged it once, in the runtime).
func TestRecords(t *testing.T) {
	h := &records{level: slog.LevelDebug}
	c := setup(t, h, slogrpc.WithLevel(slog.LevelInfo))
	ctx := ctxFor(t)
	if err := c.Invoke(ctx, "s", "test.svc.do", &args{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Invoke(ctx, "s", "test.svc.do", &args{Fail: true}, nil); !errors.Is(err, errNoSuchThing) {
		t.Fatal(err)
	}
	if err := c.Invoke(ctx, "s", "test.svc.do", &args{Panic: true}, nil); !errors.Is(err, runtime.ErrPanicked) {
		t.Fatal(err)
	}
	server := func(level slog.Level, code string, extra ...string) record {
		r := record{level, "rpc served", map[string]string{"route": "test.svc.do", "code": code, "duration": "d"}}
		for i := 0; i < len(extra); i += 2 {
			r.Attrs[extra[i]] = extra[i+1]
		}
		return r
	}
	client := func(level slog.Level, code string, extra ...string) record {
		r := server(level, code, extra...)
		r.Msg = "rpc call"
		r.Attrs["server"] = "s"
		return r
	}
	want := []record{
		server(slog.LevelInfo, "ok"),
		client(slog.LevelInfo, "ok"),
		server(slog.LevelWarn, "not_found", "error", "rpc error: not_found: no such thing"),
		client(slog.LevelWarn, "not_found", "error", "rpc error: not_found: no such thing"),
		client(slog.LevelWarn, "internal", "error", "rpc error: internal: internal error: test.svc.do: handler panicked"),
	}
	if diff := cmp.Diff(want, h.take()); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// With the handler above the success level, only failures are logged;
// sampling logs one success in n and every failure.
func TestLevelAndSampling(t *testing.T) {
	h := &records{level: slog.LevelInfo}
	c := setup(t, h) // successes at Debug: below the handler
	ctx := ctxFor(t)
	for range 10 {
		_ = c.Invoke(ctx, "s", "test.svc.do", &args{}, nil)
	}
	_ = c.Invoke(ctx, "s", "test.svc.do", &args{Fail: true}, nil)
	if got := h.take(); len(got) != 2 || got[0].Level != slog.LevelWarn || got[1].Level != slog.LevelWarn {
		t.Fatalf("successes below the handler's level: want only the failure's two records, got %v", got)
	}

	h = &records{level: slog.LevelDebug}
	c = setup(t, h, slogrpc.WithSampling(5))
	for range 10 {
		_ = c.Invoke(ctx, "s", "test.svc.do", &args{}, nil)
	}
	for range 3 {
		_ = c.Invoke(ctx, "s", "test.svc.do", &args{Fail: true}, nil)
	}
	var ok, failed int
	for _, r := range h.take() {
		if r.Attrs["code"] == "ok" {
			ok++
		} else {
			failed++
		}
	}
	if ok != 4 || failed != 6 {
		t.Fatalf("sampling 1 in 5 over 10 successes and 3 failures, both sides: %d success and %d failure records, want 4 and 6", ok, failed)
	}
}

// Inside a traced call, records carry the span's trace_id and span_id: the
// client's span on the client, the server's on the server.
func TestTraceIDs(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := &records{level: slog.LevelDebug}
	log := slog.New(h)

	n := runtime.NewInProc()
	srv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithTracerProvider(tp)), runtime.WithInterceptors(slogrpc.Interceptor(log)))
	srv.RegisterService(&desc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := runtime.NewClient(n, otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)), runtime.WithInterceptors(slogrpc.Interceptor(log)))
	if err := c.Invoke(ctxFor(t), "s", "test.svc.do", &args{}, nil); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans() // the server's ends first
	recs := h.take()
	if len(spans) != 2 || len(recs) != 2 {
		t.Fatalf("%d spans and %d records, want 2 of each", len(spans), len(recs))
	}
	for i := range 2 {
		sc := spans[i].SpanContext
		if recs[i].Attrs["trace_id"] != sc.TraceID().String() || recs[i].Attrs["span_id"] != sc.SpanID().String() {
			t.Errorf("record %q: trace_id %s span_id %s, want the %s span's %s %s", recs[i].Msg, recs[i].Attrs["trace_id"], recs[i].Attrs["span_id"],
				spans[i].SpanKind, sc.TraceID(), sc.SpanID())
		}
	}
}
