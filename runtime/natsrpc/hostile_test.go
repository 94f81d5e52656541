package natsrpc_test

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
)

// probe sends a probe of body to the fixture's server and returns its
// answer, or the error of a probe left unanswered for wait.
func probe(t *testing.T, f *fixture, body []byte, wait time.Duration) (*nats.Msg, error) {
	t.Helper()
	m := &nats.Msg{Subject: f.prefix + "." + f.id, Header: nats.Header{"Sessionrpc-Control": {"probe"}}, Data: body}
	return f.cnc.RequestMsg(m, wait)
}

// A probe is answered one byte per line; one that no transport sends
// (larger, more lines than a probe asks about, empty lines) is dropped
// unanswered rather than scanned, and the server goes on answering the
// well-formed ones.
func TestOversizedProbeDropped(t *testing.T) {
	f := newFixture(t, nil)
	ans, err := probe(t, f, []byte("a\nb\nc"), 10*time.Second)
	if err != nil || string(ans.Data) != "000" {
		t.Fatalf("probe of 3 unknown calls = %v, %v; want 000", ans, err)
	}
	for name, body := range map[string][]byte{
		"oversized":      bytes.Repeat([]byte("x\n"), 100<<10),
		"too many lines": bytes.Repeat([]byte("x\n"), 2000),
		"empty lines":    []byte("x\n\ny"),
	} {
		if _, err := probe(t, f, body, time.Second); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("%s probe: %v, want no answer", name, err)
		}
	}
	if ans, err := probe(t, f, []byte("x"), 10*time.Second); err != nil || string(ans.Data) != "0" {
		t.Fatalf("probe after the oversized one = %v, %v", ans, err)
	}
}

// TestProbeFlood floods a server with the largest probes it accepts, made
// of newlines, from another connection, while a healthy caller keeps
// calling it: each of the caller's calls succeeds, and the server, which
// answers probes off its subscription's goroutine from a bounded queue,
// keeps serving. (The rates with and without the flood are in
// RELIABILITY.md.)
func TestProbeFlood(t *testing.T) {
	f := newFixture(t, nil)
	flooder := connect(t, f.nats.URL())
	flood := &nats.Msg{Subject: f.prefix + "." + f.id, Reply: flooder.NewInbox(),
		Header: nats.Header{"Sessionrpc-Control": {"probe"}}, Data: bytes.Repeat([]byte{'\n'}, 120<<10)}
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if flooder.PublishMsg(flood) == nil {
				sent.Add(1)
			}
			if sent.Load()%32 == 0 {
				flooder.Flush()
			}
		}
	}()
	const calls = 200
	for i := range calls {
		if err := f.client.Invoke(ctxFor(t, 30*time.Second), f.id, routeEcho, &strArgs{A0: "x"}, &strRes{}); err != nil {
			t.Fatalf("call %d during the flood: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d calls answered while %d probes of 120 KiB were sent", calls, sent.Load())
}

// A server over its byte budget answers new calls ResourceExhausted at
// once, without decoding them, and serves again once calls finish.
func TestServerBudget(t *testing.T) {
	ns := startNATS(t)
	prefix := uniquePrefix()
	svc := newSvc()
	rs := runtime.NewServer(runtime.WithLogger(quiet), runtime.WithServerBudget(4<<10))
	rs.RegisterService(svc.desc(), svc)
	srv, err := natsrpc.Serve(connect(t, ns.URL()), "s", rs, natsrpc.WithSubjectPrefix(prefix), natsrpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tr := natsrpc.NewTransport(connect(t, ns.URL()), natsrpc.WithSubjectPrefix(prefix), natsrpc.WithLogger(quiet))
	t.Cleanup(tr.Close)
	c := runtime.NewClient(tr)
	ctx := ctxFor(t, 30*time.Second)
	errc := make(chan error, 64)
	held := 0
	for ; held < 64; held++ {
		go func() { errc <- c.Invoke(ctx, "s", routeBlock, &emptyArg{}, nil) }()
		select {
		case <-svc.started:
			continue
		case err := <-errc:
			if !errors.Is(err, runtime.ErrOverBudget) || runtime.CodeOf(err) != runtime.ResourceExhausted {
				t.Fatalf("call over the budget: %v, want ErrOverBudget", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a call neither ran nor was refused")
		}
		break
	}
	t.Logf("%d blocked calls filled a server budget of 4 KiB", held)
	if held == 0 || held == 64 {
		t.Fatalf("%d calls held a budget of 4 KiB", held)
	}
	close(svc.release)
	for range held {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the budget to have room again", func() bool {
		return c.Invoke(ctx, "s", routeEcho, &strArgs{A0: "x"}, &strRes{}) == nil
	})
}

// waitFor polls cond until it holds, failing the test after a generous
// while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
