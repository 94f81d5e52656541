package natsrpc_test

import (
	"context"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Answers of handlers that finish together are published together: one
// nats.go flush, one write, for a burst of answers.
func TestAnswersPublishedInBatches(t *testing.T) {
	f := newFixture(t, nil)
	release := holdOutbox(t, f)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := f.client.Invoke(ctxFor(t, 10*time.Second), f.id, routeEcho, &strArgs{A0: "x"}, &strRes{}); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, f, n)
	release()
	wg.Wait()
	if b, a := f.server.OutboxStats(); b != 1 || a != n {
		t.Fatalf("%d answers published in %d batches, want %d in 1", a, b, n)
	}

	// Without help: handlers released at once finish close together, and
	// the first to finish yields to let the others queue their answers.
	// On one processor, without that yield, each would publish its own.
	const m = 32
	errc := f.blockCalls(t, ctxFor(t, 10*time.Second), m)
	b0, a0 := f.server.OutboxStats()
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	close(f.svc.release)
	for range m {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	b, a := f.server.OutboxStats()
	if b, a = b-b0, a-a0; a != m || b > m/2 {
		t.Fatalf("%d answers published in %d batches, want %d in at most %d", a, b, m, m/2)
	}
}

// A call whose answer waits in the outbox is still running for a probe;
// once the answer is published, it is unknown, and the probe's answer
// comes after the call's.
func TestProbeOfQueuedAnswer(t *testing.T) {
	f := newFixture(t, nil)
	subject := f.prefix + "." + f.id
	reply := f.cnc.NewInbox()
	answers, err := f.cnc.SubscribeSync(reply)
	if err != nil {
		t.Fatal(err)
	}
	probe := func() string {
		t.Helper()
		m, err := f.cnc.RequestMsg(&nats.Msg{Subject: subject, Header: nats.Header{"Sessionrpc-Control": {"probe"}}, Data: []byte(reply)}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(m.Data)
	}

	release := holdOutbox(t, f)
	req := runtime.AppendRequest(nil, &runtime.Request{Route: routeEcho, Payload: []byte(`{"A0":"x"}`)})
	if err := f.cnc.PublishRequest(subject, reply, req); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, f, 1)
	if got := probe(); got != "1" {
		t.Fatalf("probe of a call whose answer is queued = %q, want running (1)", got)
	}
	release()
	if _, err := answers.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if got := probe(); got != "0" {
		t.Fatalf("probe of an answered call = %q, want unknown (0)", got)
	}
}

// Shutdown publishes the answers waiting in the outbox before it returns.
func TestShutdownPublishesQueuedAnswers(t *testing.T) {
	f := newFixture(t, nil)
	release := holdOutbox(t, f)
	errc := make(chan error, 1)
	go func() { errc <- f.client.Invoke(ctxFor(t, 10*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}) }()
	waitQueued(t, f, 1)
	done := make(chan error, 1)
	go func() { done <- f.server.Shutdown(ctxFor(t, 10*time.Second)) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with an answer still queued", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-errc; err != nil {
		t.Fatalf("call answered from the outbox: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Close publishes the answers already queued, answers the calls still
// running with Unavailable, and publishes nothing after it returns.
func TestClosePublishesQueuedAnswers(t *testing.T) {
	f := newFixture(t, nil)
	running := f.blockCalls(t, ctxFor(t, 10*time.Second), 1)
	release := holdOutbox(t, f)
	queued := make(chan error, 1)
	go func() { queued <- f.client.Invoke(ctxFor(t, 10*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}) }()
	waitQueued(t, f, 1)
	done := make(chan struct{})
	go func() { f.server.Close(); close(done) }()
	select {
	case <-done:
		t.Fatal("Close returned with an answer still queued")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	<-done
	if err := <-queued; err != nil {
		t.Fatalf("call answered from the outbox: %v", err)
	}
	wantCode(t, <-running, runtime.Unavailable)
}

// holdOutbox holds f's server's outbox (see Server.HoldOutbox) until the
// returned function, or the end of the test, releases it: a test that
// fails while holding it must not leave the server's Close waiting.
func holdOutbox(t *testing.T, f *fixture) (release func()) {
	release = sync.OnceFunc(f.server.HoldOutbox())
	t.Cleanup(release)
	return release
}

// waitQueued waits until n answers wait in f's server's outbox.
func waitQueued(t *testing.T, f *fixture, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for f.server.Queued() < n {
		if ctx.Err() != nil {
			t.Fatalf("%d answers queued, want %d", f.server.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
