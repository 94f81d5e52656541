package natsrpc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

func TestNoRespondersIsUnavailableAtOnce(t *testing.T) {
	f := newFixture(t, nil)
	start := time.Now()
	err := f.client.Invoke(ctxFor(t, 30*time.Second), "nobody", routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
	if d := time.Since(start); d > 10*time.Second { // the deadline is 30s
		t.Fatalf("no responders took %v", d)
	}
	if !strings.Contains(err.Error(), "nobody") {
		t.Errorf("error does not name the server: %v", err)
	}
}

func TestDeadlineHonoured(t *testing.T) {
	f := newFixture(t, nil)
	const d = 300 * time.Millisecond
	start := time.Now()
	err := f.client.Invoke(ctxFor(t, d), f.id, routeBlock, &emptyArg{}, nil)
	took := time.Since(start)
	wantCode(t, err, runtime.DeadlineExceeded)
	if took < d || took > d+5*time.Second {
		t.Fatalf("call with a %v deadline returned after %v", d, took)
	}
	select {
	case herr := <-f.svc.ended:
		if !errors.Is(herr, context.DeadlineExceeded) {
			t.Fatalf("handler ctx ended with %v, want the deadline", herr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler ctx never ended")
	}
}

func TestCancelReachesHandler(t *testing.T) {
	f := newFixture(t, nil)
	// No deadline: only the cancel message can end the handler.
	ctx, cancel := context.WithCancel(context.Background())
	errc := f.blockCalls(t, ctx, 1)
	cancel()
	select {
	case err := <-errc:
		wantCode(t, err, runtime.Canceled)
	case <-time.After(time.Second):
		t.Fatal("caller did not return at once after cancelling")
	}
	select {
	case herr := <-f.svc.ended:
		if !errors.Is(herr, context.Canceled) {
			t.Fatalf("handler ctx ended with %v, want Canceled", herr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancellation never reached the handler")
	}
}

func TestSubjectPrefixIsolation(t *testing.T) {
	ns := startNATS(t)
	snc, cnc := connect(t, ns.URL()), connect(t, ns.URL())
	serve := func(prefix, answer string) {
		rs := runtime.NewServer(runtime.WithLogger(quiet))
		rs.RegisterService(&runtime.ServiceDesc{Name: "t.svc", Methods: []runtime.MethodDesc{{
			Route: routeEcho, NewArgs: newOf[strArgs](), NewResult: newOf[strRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*strRes).R0 = answer
				return nil
			}}}}, nil)
		s, err := natsrpc.Serve(snc, "same-id", rs, natsrpc.WithSubjectPrefix(prefix))
		if err != nil {
			t.Fatalf("serve under %q: %v", prefix, err)
		}
		t.Cleanup(func() { s.Close() })
	}
	serve("game-a", "a")
	serve("game-b.rpc", "b")
	for prefix, want := range map[string]string{"game-a": "a", "game-b.rpc": "b"} {
		tr := natsrpc.NewTransport(cnc, natsrpc.WithSubjectPrefix(prefix))
		t.Cleanup(tr.Close)
		var out strRes
		if err := runtime.NewClient(tr).Invoke(ctxFor(t, 5*time.Second), "same-id", routeEcho, &strArgs{}, &out); err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		if out.R0 != want {
			t.Errorf("prefix %q reached the server of another prefix: got %q, want %q", prefix, out.R0, want)
		}
	}
	tr := natsrpc.NewTransport(cnc, natsrpc.WithSubjectPrefix("game-c"))
	t.Cleanup(tr.Close)
	err := runtime.NewClient(tr).Invoke(ctxFor(t, 5*time.Second), "same-id", routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
}

func TestServeRefusesATakenID(t *testing.T) {
	f := newFixture(t, nil)
	other := connect(t, f.nats.URL())
	_, err := natsrpc.Serve(other, f.id, runtime.NewServer(), f.sopts...)
	if err == nil || !strings.Contains(err.Error(), "already served") {
		t.Fatalf("second Serve of %q: %v, want already served", f.id, err)
	}
	// The first server still answers.
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}); err != nil {
		t.Fatal(err)
	}
	// Once it has gone, the id is free.
	if err := f.server.Shutdown(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	s, err := natsrpc.Serve(other, f.id, runtime.NewServer(), f.sopts...)
	if err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	s.Close()
}

func TestInvalidNames(t *testing.T) {
	f := newFixture(t, nil)
	for _, id := range []string{"", "a.b", "a b", "a*", ">", "tab\t"} {
		err := f.client.Invoke(ctxFor(t, 5*time.Second), id, routeEcho, &strArgs{}, &strRes{})
		wantCode(t, err, runtime.InvalidArgument)
		if _, err := natsrpc.Serve(f.snc, id, runtime.NewServer()); err == nil {
			t.Errorf("Serve(%q) succeeded", id)
		}
	}
	for _, prefix := range []string{"", "a..b", ".a", "a.", "a.*", "a b"} {
		tr := natsrpc.NewTransport(f.cnc, natsrpc.WithSubjectPrefix(prefix))
		err := runtime.NewClient(tr).Invoke(ctxFor(t, 5*time.Second), "x", routeEcho, &strArgs{}, &strRes{})
		wantCode(t, err, runtime.InvalidArgument)
		tr.Close()
		if _, err := natsrpc.Serve(f.snc, "x", runtime.NewServer(), natsrpc.WithSubjectPrefix(prefix)); err == nil {
			t.Errorf("Serve with prefix %q succeeded", prefix)
		}
	}
}

func TestConnectionClosedIsUnavailable(t *testing.T) {
	f := newFixture(t, nil)
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 3)
	f.cnc.Close()
	for range 3 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
		case <-time.After(time.Second):
			t.Fatal("calls in flight did not fail at once when the connection closed")
		}
	}
	err := f.client.Invoke(ctxFor(t, 30*time.Second), f.id, routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
}

func TestOversizeAgainstNATSMaxPayload(t *testing.T) {
	const natsMax = 16 << 10
	f := newFixture(t, startNATS(t, natsembed.WithMaxPayload(natsMax)))
	ctx := ctxFor(t, 5*time.Second)
	if got := f.cnc.MaxPayload(); got != natsMax {
		t.Fatalf("NATS max_payload = %d, want %d", got, natsMax)
	}

	// Arguments: the transport's own limit is the default 4 MiB, but the
	// envelope must fit NATS's limit; refused before anything is sent.
	start := time.Now()
	err := f.client.Invoke(ctx, f.id, routeEcho, &strArgs{A0: strings.Repeat("x", natsMax)}, &strRes{})
	wantCode(t, err, runtime.ResourceExhausted)
	if !strings.Contains(err.Error(), "max_payload") {
		t.Errorf("error does not name NATS's limit: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("oversize call took %v to fail", d)
	}

	// Results: the server answers ResourceExhausted instead.
	err = f.client.Invoke(ctx, f.id, routeBig, &intArgs{A0: natsMax}, &strRes{})
	wantCode(t, err, runtime.ResourceExhausted)

	// Both sides keep working.
	var out strRes
	if err := f.client.Invoke(ctx, f.id, routeBig, &intArgs{A0: natsMax / 2}, &out); err != nil || len(out.R0) != natsMax/2 {
		t.Fatalf("call after refused ones: %v (%d bytes)", err, len(out.R0))
	}
}

func TestOwnMaxPayloadOption(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithMaxPayload(100))
	// The runtime client's own limit is larger: the transport refuses.
	_, err := f.tr.RoundTrip(ctxFor(t, 5*time.Second), f.id, &runtime.Request{Route: routeEcho, Payload: make([]byte, 101)})
	wantCode(t, err, runtime.ResourceExhausted)
	// The server refuses results over its limit.
	err = f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeBig, &intArgs{A0: 200}, &strRes{})
	wantCode(t, err, runtime.ResourceExhausted)
}

// A server process that dies answers nothing; the probe fails its callers
// long before their deadline.
func TestDeadServerFoundByProbe(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(200*time.Millisecond))
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 3)
	start := time.Now()
	f.snc.Close() // the process's connection drops; Server.Close is never called
	for range 3 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
			if !strings.Contains(err.Error(), "gone") {
				t.Errorf("err = %v, want the server gone", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("callers of a dead server still waiting")
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("callers of a dead server waited %v", d)
	}
}

// A server that died and came back under the same id does not know the
// calls its predecessor took: they fail rather than wait.
func TestRestartedServerLosesCalls(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(300*time.Millisecond))
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 2)
	f.snc.Close()
	f.serve(t, connect(t, f.nats.URL()))
	for range 2 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
			if !strings.Contains(err.Error(), "lost") {
				t.Errorf("err = %v, want the call lost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("calls lost by a restarted server still waiting")
		}
	}
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}); err != nil {
		t.Fatalf("call to the restarted server: %v", err)
	}
}

// A slow server that is alive keeps its callers waiting: probes find the
// calls running.
func TestProbeSparesLiveCalls(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(50*time.Millisecond))
	const d = 600 * time.Millisecond // a dozen probes
	err := f.client.Invoke(ctxFor(t, d), f.id, routeBlock, &emptyArg{}, nil)
	wantCode(t, err, runtime.DeadlineExceeded)
}

func TestWithoutProbeDeadServerCostsTheDeadline(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(0))
	errc := f.blockCalls(t, ctxFor(t, 500*time.Millisecond), 1)
	f.snc.Close()
	select {
	case err := <-errc:
		wantCode(t, err, runtime.DeadlineExceeded)
	case <-time.After(5 * time.Second):
		t.Fatal("call never returned")
	}
}

func TestMaxInFlight(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithMaxConcurrentCalls(2))
	ctx := ctxFor(t, 10*time.Second)
	errc := f.blockCalls(t, ctx, 2)
	// Further calls wait for a slot: one until its deadline, ...
	err := f.client.Invoke(ctxFor(t, 200*time.Millisecond), f.id, routeBlock, &emptyArg{}, nil)
	wantCode(t, err, runtime.DeadlineExceeded)
	// ... others until a slot frees.
	more := make(chan error, 3)
	for range 3 {
		go func() { more <- f.client.Invoke(ctx, f.id, routeEcho, &strArgs{}, &strRes{}) }()
	}
	select {
	case err := <-more:
		t.Fatalf("a call ran beyond the bound (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(f.svc.release)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := <-more; err != nil {
			t.Fatal(err)
		}
	}
	if m := f.svc.maxSeen.Load(); m > 2 {
		t.Fatalf("%d handlers ran at once, bound is 2", m)
	}
}

func TestPeerRecordsOnlyTheReplySubject(t *testing.T) {
	f := newFixture(t, nil)
	var out peerRes
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routePeer, &emptyArg{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Network != "nats" || !strings.HasPrefix(out.Addr, nats.InboxPrefix) || out.Identity != "" {
		t.Fatalf("peer = %+v, want network nats, an inbox address, no identity", out)
	}
}

func TestShutdownAnswersCallsInFlight(t *testing.T) {
	f := newFixture(t, nil)
	errc := f.blockCalls(t, ctxFor(t, 10*time.Second), 3)
	done := make(chan error, 1)
	go func() { done <- f.server.Shutdown(ctxFor(t, 10*time.Second)) }()
	// New calls are refused while the old ones finish.
	time.Sleep(50 * time.Millisecond)
	err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
	close(f.svc.release)
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatalf("call in flight: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestShutdownTimeoutStopsTheRest(t *testing.T) {
	f := newFixture(t, nil)
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 2)
	err := f.server.Shutdown(ctxFor(t, 100*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want its ctx's deadline", err)
	}
	for range 2 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
		case <-time.After(5 * time.Second):
			t.Fatal("calls still waiting after Shutdown gave up")
		}
	}
}

func TestTransportClose(t *testing.T) {
	f := newFixture(t, nil)
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 2)
	f.tr.Close()
	for range 2 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
		case <-time.After(time.Second):
			t.Fatal("calls in flight did not fail when the transport closed")
		}
	}
	err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
}

func TestMalformedCallAnswered(t *testing.T) {
	f := newFixture(t, nil)
	m, err := f.cnc.Request(f.prefix+"."+f.id, []byte("not an envelope"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := runtime.ParseResponse(m.Data)
	if err != nil {
		t.Fatalf("answer to a malformed call: %v", err)
	}
	if !errors.Is(resp.Err(), runtime.ErrMalformed) {
		t.Fatalf("answer = %v, want ErrMalformed", resp.Err())
	}
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}); err != nil {
		t.Fatalf("server stopped serving after a malformed call: %v", err)
	}
}

// Close answers the calls it abandons, without help from probes.
func TestCloseAnswersCallsInFlight(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(0))
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 5)
	f.server.Close()
	for range 5 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
		case <-time.After(time.Second):
			t.Fatal("calls in flight not answered when the server closed")
		}
	}
	for range 5 {
		select {
		case herr := <-f.svc.ended:
			if !errors.Is(herr, context.Canceled) {
				t.Fatalf("handler ctx ended with %v, want Canceled", herr)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handlers' contexts not cancelled by Close")
		}
	}
	// Gone: the next call finds no responders.
	err := f.client.Invoke(ctxFor(t, 30*time.Second), f.id, routeEcho, &strArgs{}, &strRes{})
	wantCode(t, err, runtime.Unavailable)
}

func TestConcurrentStops(t *testing.T) {
	f := newFixture(t, nil)
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 2)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- f.server.Shutdown(ctxFor(t, 5*time.Second)) }()
	}
	time.Sleep(50 * time.Millisecond) // both wait for the calls in flight
	close(f.svc.release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	f.server.Close()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
