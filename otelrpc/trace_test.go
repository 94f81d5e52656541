package otelrpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// relayCluster is servers "a" and "b" over one network, each instrumented
// with a tracer provider of its own and a client to call the other: a call
// to a with hops ["b"] crosses a → b.
func relayCluster(t *testing.T, n network, tr *tracing) {
	for _, id := range []string{"a", "b"} {
		tp := tr.provider(t, id)
		srv := runtime.NewServer(runtime.WithLogger(quiet), otelrpc.ServerOption(otelrpc.WithTracerProvider(tp)))
		client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))
		srv.RegisterService(&relayDesc, client)
		n.serve(t, id, srv)
	}
}

// One trace crosses every server a call goes through, on every transport:
// caller → a → b, each call a client span (on the caller's side) and a
// server span (on the callee's), each the child of the one before.
func TestTraceCrossesServers(t *testing.T) {
	for _, newNet := range networks {
		n := newNet(t)
		t.Run(n.name, func(t *testing.T) {
			tr := newTracing(t, sdktrace.AlwaysSample())
			relayCluster(t, n, tr)
			tp := tr.provider(t, "caller")
			client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))
			ctx, root := tp.Tracer("test").Start(ctxFor(t), "game.handleJoin")
			var out relayResult
			err := client.Invoke(ctx, "a", routeRelay, &relayArgs{Hops: []string{"b"}}, &out)
			root.End()
			if err != nil || out.Depth != 1 {
				t.Fatalf("relay a → b: %v, depth %d", err, out.Depth)
			}

			spans := tr.exp.GetSpans()
			if len(spans) != 5 {
				t.Fatalf("%d spans, want 5 (root, and a client and a server span per call):\n%s", len(spans), dump(spans))
			}
			want := []struct {
				name     string
				kind     trace.SpanKind
				instance string
				server   string // server.address, client spans only
			}{
				{"game.handleJoin", trace.SpanKindInternal, "caller", ""},
				{routeRelay, trace.SpanKindClient, "caller", "a"},
				{routeRelay, trace.SpanKindServer, "a", ""},
				{routeRelay, trace.SpanKindClient, "a", "b"},
				{routeRelay, trace.SpanKindServer, "b", ""},
			}
			chain := chainFrom(t, spans, root.SpanContext())
			for i, w := range want {
				s := chain[i]
				if s.Name != w.name || s.SpanKind != w.kind || instance(s) != w.instance || attr(s, semconv.ServerAddressKey) != w.server {
					t.Errorf("span %d is %s %s on %q to %q, want %s %s on %q to %q", i, s.Name, s.SpanKind, instance(s), attr(s, semconv.ServerAddressKey),
						w.name, w.kind, w.instance, w.server)
				}
				if s.SpanContext.TraceID() != root.SpanContext().TraceID() {
					t.Errorf("span %d (%s on %s) is in trace %s, want %s", i, s.Name, instance(s), s.SpanContext.TraceID(), root.SpanContext().TraceID())
				}
				if i == 0 {
					continue
				}
				if got := attr(s, semconv.RPCSystemNameKey); got != "sessionrpc" {
					t.Errorf("span %d: rpc.system.name = %q", i, got)
				}
				if got := attr(s, semconv.RPCMethodKey); got != routeRelay {
					t.Errorf("span %d: rpc.method = %q", i, got)
				}
				if got := attr(s, semconv.RPCResponseStatusCodeKey); got != "OK" {
					t.Errorf("span %d: rpc.response.status_code = %q", i, got)
				}
				if s.Status.Code != codes.Unset || attr(s, semconv.ErrorTypeKey) != "" {
					t.Errorf("span %d of a successful call: status %v, error.type %q", i, s.Status, attr(s, semconv.ErrorTypeKey))
				}
			}
			if n.name == "tcp" && attr(chain[2], semconv.NetworkPeerAddressKey) != "127.0.0.1" {
				t.Errorf("server span over TCP: network.peer.address = %q, want the caller's", attr(chain[2], semconv.NetworkPeerAddressKey))
			}
		})
	}
}

// chainFrom orders spans from root down, each the parent of the next; it
// fails the test if they are not such a chain.
func chainFrom(t *testing.T, spans tracetest.SpanStubs, root trace.SpanContext) tracetest.SpanStubs {
	t.Helper()
	var chain tracetest.SpanStubs
	parent := trace.SpanContext{}
	for range spans {
		found := false
		for _, s := range spans {
			if s.Parent.SpanID() == parent.SpanID() && (len(chain) > 0 || s.SpanContext.SpanID() == root.SpanID()) {
				chain = append(chain, s)
				parent = s.SpanContext
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("the spans are not one chain of parents and children (found %d of %d):\n%s", len(chain), len(spans), dump(spans))
		}
	}
	// The server spans' parents are remote: they came in the metadata.
	for i, s := range chain {
		if i > 0 && s.SpanKind == trace.SpanKindServer && !s.Parent.IsRemote() {
			t.Errorf("server span %d: parent not marked remote", i)
		}
	}
	return chain
}

func dump(spans tracetest.SpanStubs) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %s on %s: span %s parent %s\n", s.Name, s.SpanKind, instance(s), s.SpanContext.SpanID(), s.Parent.SpanID())
	}
	return b.String()
}

// A call whose metadata carries no trace context starts a new trace on the
// server; so does a client call made outside any span.
func TestCallWithoutTraceContextStartsTrace(t *testing.T) {
	n := inProcNetwork(t)
	tr := newTracing(t, sdktrace.AlwaysSample())
	relayCluster(t, n, tr)

	// A client without instrumentation sends no trace context.
	if err := runtime.NewClient(n.transport(t)).Invoke(ctxFor(t), "b", routeRelay, &relayArgs{}, &relayResult{}); err != nil {
		t.Fatal(err)
	}
	spans := tr.exp.GetSpans()
	if len(spans) != 1 || spans[0].SpanKind != trace.SpanKindServer || spans[0].Parent.IsValid() || !spans[0].SpanContext.IsValid() {
		t.Fatalf("uninstrumented caller: want one server span with no parent, got:\n%s", dump(spans))
	}
	first := spans[0].SpanContext.TraceID()
	tr.exp.Reset()

	// An instrumented client outside any span: its client span is a root.
	tp := tr.provider(t, "caller")
	client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))
	if err := client.Invoke(ctxFor(t), "b", routeRelay, &relayArgs{}, &relayResult{}); err != nil {
		t.Fatal(err)
	}
	spans = tr.exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("want a client and a server span, got:\n%s", dump(spans))
	}
	chain := chainFrom(t, spans, spans[1].SpanContext) // the client span ends last
	if chain[0].SpanKind != trace.SpanKindClient || chain[0].Parent.IsValid() {
		t.Errorf("the client span of a call outside any span has parent %v", chain[0].Parent)
	}
	if chain[0].SpanContext.TraceID() == first {
		t.Error("two unrelated calls share a trace")
	}
}

// A trace its root did not sample is not recorded downstream, even by a
// server whose own sampler samples everything: the servers follow the
// caller's decision and pass its trace context on as it came.
func TestUnsampledTraceIsFollowed(t *testing.T) {
	n := inProcNetwork(t)
	tr := newTracing(t, sdktrace.AlwaysSample())
	relayCluster(t, n, tr)
	var got runtime.Metadata
	record := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		got = runtime.MetadataFromContext(ctx)
		return next(ctx, args, result)
	}
	last := runtime.NewServer(runtime.WithInterceptors(record))
	last.RegisterService(&relayDesc, nil)
	n.serve(t, "c", last)

	never := newTracing(t, sdktrace.NeverSample())
	tp := never.provider(t, "caller")
	ctx, root := tp.Tracer("test").Start(ctxFor(t), "game.handleJoin")
	defer root.End()
	client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))
	if err := client.Invoke(ctx, "a", routeRelay, &relayArgs{Hops: []string{"b", "c"}}, &relayResult{}); err != nil {
		t.Fatal(err)
	}
	if spans := tr.exp.GetSpans(); len(spans) != 0 {
		t.Fatalf("an unsampled trace was recorded downstream:\n%s", dump(spans))
	}
	sc := root.SpanContext()
	if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-00"; got["traceparent"] != want {
		t.Errorf("traceparent after a → b → c: %q, want the root's, unsampled: %q", got["traceparent"], want)
	}
}

// Failed calls: the client span ends in error for any code, the server span
// only for codes that are the server's fault; both carry the code.
func TestSpanStatusOfFailedCalls(t *testing.T) {
	n := inProcNetwork(t)
	tr := newTracing(t, sdktrace.AlwaysSample())
	relayCluster(t, n, tr)
	tp := tr.provider(t, "caller")
	client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithTracerProvider(tp)))

	err := client.Invoke(ctxFor(t), "a", routeRelay, &relayArgs{Fail: true}, &relayResult{})
	if !errors.Is(err, errNoSuchThing) {
		t.Fatalf("failing call: %v", err)
	}
	err = client.Invoke(ctxFor(t), "a", "test.relay.nope", &relayArgs{}, &relayResult{})
	if runtime.CodeOf(err) != runtime.Unimplemented {
		t.Fatalf("unknown route: %v", err)
	}
	type got struct {
		Name, Kind, Status, Code, ErrorType, Original string
	}
	var spans []got
	for _, s := range tr.exp.GetSpans() {
		spans = append(spans, got{s.Name, s.SpanKind.String(), s.Status.Code.String(), attr(s, semconv.RPCResponseStatusCodeKey),
			attr(s, semconv.ErrorTypeKey), attr(s, semconv.RPCMethodOriginalKey)})
	}
	want := []got{
		{routeRelay, "server", "Unset", "NOT_FOUND", "NOT_FOUND", ""},
		{routeRelay, "client", "Error", "NOT_FOUND", "NOT_FOUND", ""},
		// The server knows the route is not registered: _OTHER, and the
		// span is named after the system.
		{"sessionrpc", "server", "Error", "UNIMPLEMENTED", "UNIMPLEMENTED", "test.relay.nope"},
		{"test.relay.nope", "client", "Error", "UNIMPLEMENTED", "UNIMPLEMENTED", ""},
	}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Errorf("spans:\n got %+v\nwant %+v", spans, want)
	}
}
