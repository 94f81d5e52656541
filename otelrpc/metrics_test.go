package otelrpc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Attributes of the call metrics, as attrString renders them.
const (
	okRelay       = "rpc.method=test.relay.call,rpc.response.status_code=OK,rpc.system.name=sessionrpc"
	notFoundRelay = "error.type=NOT_FOUND,rpc.method=test.relay.call,rpc.response.status_code=NOT_FOUND,rpc.system.name=sessionrpc"
	otherUnimpl   = "error.type=UNIMPLEMENTED,rpc.method=_OTHER,rpc.response.status_code=UNIMPLEMENTED,rpc.system.name=sessionrpc"
	activeRelay   = "rpc.method=test.relay.call,rpc.system.name=sessionrpc"
	activeOther   = "rpc.method=_OTHER,rpc.system.name=sessionrpc"
)

// After a known workload, every metric counts exactly the calls made, by
// route and code; calls refused for an unknown route are counted as _OTHER.
func TestCallMetricsAfterKnownWorkload(t *testing.T) {
	for _, newNet := range networks {
		n := newNet(t)
		t.Run(n.name, func(t *testing.T) {
			serverM, clientM := newMetrics(t), newMetrics(t)
			srv := runtime.NewServer(runtime.WithLogger(quiet), otelrpc.ServerOption(otelrpc.WithMeterProvider(serverM.mp)))
			srv.RegisterService(&relayDesc, nil)
			n.serve(t, "s", srv)
			client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithMeterProvider(clientM.mp)))
			ctx := ctxFor(t)
			for range 7 {
				if err := client.Invoke(ctx, "s", routeRelay, &relayArgs{}, &relayResult{}); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				if err := client.Invoke(ctx, "s", routeRelay, &relayArgs{Fail: true}, &relayResult{}); runtime.CodeOf(err) != runtime.NotFound {
					t.Fatalf("failing call: %v", err)
				}
			}
			// Unknown to the server; the client has no list, so it
			// records the routes it calls.
			for i := range 2 {
				if err := client.Invoke(ctx, "s", fmt.Sprintf("test.relay.nope%d", i), &relayArgs{}, nil); runtime.CodeOf(err) != runtime.Unimplemented {
					t.Fatalf("unknown route: %v", err)
				}
			}

			sm := serverM.collect(t)
			wantCounts(t, sm, "rpc.server.call.duration", map[string]int64{okRelay: 7, notFoundRelay: 3, otherUnimpl: 2})
			wantCounts(t, sm, "sessionrpc.server.active_calls", map[string]int64{activeRelay: 0, activeOther: 0})
			// Bytes: each request is the route and {"hops":null,"fail":false}
			// (or true) and, on a network, a few bytes of envelope (version,
			// lengths, the deadline); the result is {"depth":0}; failures
			// send no result.
			req, resp := points(sm["sessionrpc.server.request.bytes"]), points(sm["sessionrpc.server.response.bytes"])
			body := int64(len(routeRelay) + len(`{"hops":null,"fail":false}`))
			if got := req[okRelay].N; got < 7*body || got > 7*(body+16) {
				t.Errorf("request bytes of the 7 calls: %v, want %v plus at most 16 a call", got, 7*body)
			}
			if got := req[notFoundRelay].N; got < 3*(body-1) || got > 3*(body+15) { // true is shorter than false
				t.Errorf("request bytes of the 3 failed calls: %v, want %v plus at most 16 a call", got, 3*(body-1))
			}
			if got, want := resp[okRelay].N, int64(7*len(`{"depth":0}`)); got != want {
				t.Errorf("response bytes of the 7 calls: %v, want %v", got, want)
			}
			if _, ok := resp[notFoundRelay]; ok {
				t.Errorf("failed calls counted response bytes: %v", resp[notFoundRelay])
			}
			if len(req) != 3 {
				t.Errorf("request bytes by attributes: %v, want the OK, NOT_FOUND and _OTHER calls", req)
			}

			cm := clientM.collect(t)
			nope := func(i int) string {
				return fmt.Sprintf("error.type=UNIMPLEMENTED,rpc.method=test.relay.nope%d,rpc.response.status_code=UNIMPLEMENTED,rpc.system.name=sessionrpc", i)
			}
			wantCounts(t, cm, "rpc.client.call.duration", map[string]int64{okRelay: 7, notFoundRelay: 3, nope(0): 1, nope(1): 1})
			wantCounts(t, cm, "sessionrpc.client.active_calls", map[string]int64{
				activeRelay: 0, "rpc.method=test.relay.nope0,rpc.system.name=sessionrpc": 0, "rpc.method=test.relay.nope1,rpc.system.name=sessionrpc": 0,
			})
			if d := points(cm["rpc.client.call.duration"])[okRelay]; d.Sum <= 0 {
				t.Errorf("client durations sum to %v s", d.Sum)
			}
			if u := cm["rpc.client.call.duration"].Unit; u != "s" {
				t.Errorf("rpc.client.call.duration unit %q, want s", u)
			}
		})
	}
}

// Calls in flight are counted while they run.
func TestActiveCallsWhileRunning(t *testing.T) {
	serverM, clientM := newMetrics(t), newMetrics(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 3)
	desc := runtime.ServiceDesc{Name: "test.block", Methods: []runtime.MethodDesc{{
		Route: "test.block.wait", NewArgs: func() any { return new(struct{}) },
		Handler: func(ctx context.Context, _, _, _ any) error {
			entered <- struct{}{}
			<-release
			return nil
		},
	}}}
	n := inProcNetwork(t)
	srv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithMeterProvider(serverM.mp)))
	srv.RegisterService(&desc, nil)
	n.serve(t, "s", srv)
	client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithMeterProvider(clientM.mp)))
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- client.Invoke(ctxFor(t), "s", "test.block.wait", &struct{}{}, nil) }()
	}
	for range 3 {
		<-entered
	}
	active := "rpc.method=test.block.wait,rpc.system.name=sessionrpc"
	wantCounts(t, serverM.collect(t), "sessionrpc.server.active_calls", map[string]int64{active: 3})
	wantCounts(t, clientM.collect(t), "sessionrpc.client.active_calls", map[string]int64{active: 3})
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wantCounts(t, serverM.collect(t), "sessionrpc.server.active_calls", map[string]int64{active: 0})
}

// wantCounts checks a metric's data points: the count of each histogram
// point, or the value of each sum point, by attributes.
func wantCounts(t *testing.T, ms map[string]metricdata.Metrics, name string, want map[string]int64) {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Errorf("no metric %s", name)
		return
	}
	got := make(map[string]int64)
	for k, p := range points(m) {
		got[k] = p.N
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s by attributes (-want +got):\n%s", name, diff)
	}
}

// Several clients and servers may share one meter provider, as the servers
// of one process do: every one of them is observed, not only the first
// (an observable instrument's own callback would apply only to the first
// instrument of its name).
func TestManyClientsAndServersShareAMeter(t *testing.T) {
	m := newMetrics(t)
	n := inProcNetwork(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	for _, id := range []string{"a", "b"} {
		desc := runtime.ServiceDesc{Name: "test." + id, Methods: []runtime.MethodDesc{{
			Route: "test." + id + ".wait", NewArgs: func() any { return new(struct{}) },
			Handler: func(ctx context.Context, _, _, _ any) error {
				entered <- struct{}{}
				<-release
				return nil
			},
		}}}
		srv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithMeterProvider(m.mp)))
		srv.RegisterService(&desc, nil)
		n.serve(t, id, srv)
	}
	errs := make(chan error, 2)
	for _, id := range []string{"a", "b"} {
		client := runtime.NewClient(n.transport(t), otelrpc.ClientOption(otelrpc.WithMeterProvider(m.mp)))
		go func() { errs <- client.Invoke(ctxFor(t), id, "test."+id+".wait", &struct{}{}, nil) }()
	}
	for range 2 {
		<-entered
	}
	want := map[string]int64{
		"rpc.method=test.a.wait,rpc.system.name=sessionrpc": 1,
		"rpc.method=test.b.wait,rpc.system.name=sessionrpc": 1,
	}
	got := m.collect(t)
	wantCounts(t, got, "sessionrpc.server.active_calls", want)
	wantCounts(t, got, "sessionrpc.client.active_calls", want)
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
