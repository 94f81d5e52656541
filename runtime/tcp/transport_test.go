package tcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

func echo(ctx context.Context, c *rt.Client, msg string) error {
	var out echoResult
	if err := c.Invoke(ctx, "s", routeEcho, &echoArgs{A0: msg}, &out); err != nil {
		return err
	}
	if out.R0 != msg {
		return fmt.Errorf("echo of %q came back as %q", msg, out.R0)
	}
	return nil
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestManyCallsOneConnection(t *testing.T) {
	f := start(t, nil, nil)
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := echo(ctx, f.client, fmt.Sprint("m", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := f.ln.accepted.Load(); n != 1 {
		t.Fatalf("500 concurrent calls used %d connections, want 1", n)
	}
}

// TestWriteCoalescing checks, end to end, that concurrent calls share
// writes, requests on the client and answers on the server. (TestWriterCoalesces
// proves the mechanism deterministically.)
func TestWriteCoalescing(t *testing.T) {
	const n = 300
	f := start(t, nil, nil)
	ctx := ctxFor(t, 10*time.Second)
	if err := echo(ctx, f.client, "warm up"); err != nil {
		t.Fatal(err)
	}
	cw0, cf0 := f.tr.WriteStats()
	sw0, sf0 := f.srv.WriteStats()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if err := echo(ctx, f.client, fmt.Sprint("call ", i)); err != nil {
				errs <- err
			}
		}()
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	cw1, cf1 := f.tr.WriteStats()
	sw1, sf1 := f.srv.WriteStats()
	cw, cf, sw, sf := cw1-cw0, cf1-cf0, sw1-sw0, sf1-sf0
	t.Logf("client: %d frames in %d writes; server: %d frames in %d writes", cf, cw, sf, sw)
	if cf != n || sf != n {
		t.Fatalf("frames: client %d, server %d; want %d each", cf, sf, n)
	}
	if cw*2 > cf {
		t.Errorf("client: %d requests took %d writes; want them batched", cf, cw)
	}
	if sw*2 > sf {
		t.Errorf("server: %d answers took %d writes; want them batched", sf, sw)
	}
}

func TestCancelReachesServer(t *testing.T) {
	f := start(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := f.block(t, ctx, 1)
	cancel()
	select {
	case err := <-errc:
		wantCode(t, err, rt.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("caller did not return at once after cancelling")
	}
	select {
	case err := <-f.svc.cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler ctx ended with %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel never reached the handler")
	}
	// The connection is still the one it was.
	if err := echo(ctxFor(t, 5*time.Second), f.client, "after"); err != nil {
		t.Fatal(err)
	}
	if n := f.ln.accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestPayloadLimitBeforeSending(t *testing.T) {
	f := start(t, nil, []tcp.TransportOption{tcp.WithMaxPayload(1000)})
	ctx := ctxFor(t, 5*time.Second)
	_, err := f.tr.RoundTrip(ctx, "s", &rt.Request{Route: routeEcho, Payload: bytes.Repeat([]byte{' '}, 1001)})
	wantCode(t, err, rt.ResourceExhausted)
	if n := f.ln.accepted.Load(); n != 0 {
		t.Fatalf("a refused request opened %d connections", n)
	}
	// A frame over the limit for another reason (metadata) is refused too.
	f2 := start(t, nil, []tcp.TransportOption{tcp.WithMaxFrame(2000)})
	mdCtx := rt.WithMetadata(ctx, rt.Metadata{"big": strings.Repeat("m", 3000)})
	wantCode(t, echo(mdCtx, f2.client, "x"), rt.ResourceExhausted)
	if f2.svc.calls.Load() != 0 {
		t.Fatal("the oversized request reached the handler")
	}
	if err := echo(ctx, f2.client, "small"); err != nil {
		t.Fatalf("call after a refused one: %v", err)
	}
}

func TestResponseOverServerFrameLimit(t *testing.T) {
	f := start(t, []tcp.ServerOption{tcp.WithMaxFrame(4000)}, nil)
	ctx := ctxFor(t, 5*time.Second)
	err := f.client.Invoke(ctx, "s", routeSize, &sizeArgs{A0: 10000}, &sizeResult{})
	wantCode(t, err, rt.ResourceExhausted)
	// The server answered with an error rather than dropping the connection.
	if err := echo(ctx, f.client, "after"); err != nil {
		t.Fatal(err)
	}
	if n := f.ln.accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestResponseOverClientFrameLimit(t *testing.T) {
	f := start(t, nil, []tcp.TransportOption{tcp.WithMaxFrame(4000)})
	ctx := ctxFor(t, 5*time.Second)
	// The server sends a frame the client refuses: the client drops that
	// connection, failing the call, and dials a new one for the next.
	err := f.client.Invoke(ctx, "s", routeSize, &sizeArgs{A0: 10000}, &sizeResult{})
	wantCode(t, err, rt.Unavailable)
	if err := echo(ctx, f.client, "after"); err != nil {
		t.Fatal(err)
	}
	if n := f.ln.accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// Calls beyond a connection's concurrency limit wait their turn rather
// than fail, and start as handlers return.
func TestMaxConcurrentCalls(t *testing.T) {
	f := start(t, []tcp.ServerOption{tcp.WithMaxConcurrentCalls(2)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := f.block(t, ctx, 2)
	third := make(chan error, 1)
	go func() { third <- f.client.Invoke(ctxFor(t, 20*time.Second), "s", routeBlock, &noArgs{}, nil) }()
	// The third call is in flight but does not run while two do.
	waitUntil(t, "the third call to reach the server", func() bool { return f.rs.Stats().InFlight == 3 })
	select {
	case <-f.svc.started:
		t.Fatal("a third handler started with two running and a limit of two")
	default:
	}
	cancel()
	for range 2 {
		wantCode(t, <-errc, rt.Canceled)
	}
	f.svc.waitStarted(t, 1) // its turn came
	if n := f.svc.calls.Load(); n != 3 {
		t.Fatalf("%d handlers ran, want 3", n)
	}
}

// A connection's budget refuses calls that would take it over, at once and
// without decoding them, but never a call that fits on its own.
func TestConnBudget(t *testing.T) {
	const budget = 8 << 10
	f := start(t, []tcp.ServerOption{tcp.WithConnBudget(budget)}, nil)
	ctx := ctxFor(t, 20*time.Second)
	// Alone, a call larger than the whole budget runs, and so does its
	// answer.
	if err := echo(ctx, f.client, strings.Repeat("x", 3*budget)); err != nil {
		t.Fatalf("a call larger than the budget, alone: %v", err)
	}
	// Its answer is released once written, which may be just after the
	// client read it.
	waitUntil(t, "the answer's bytes to be released", func() bool { return f.rs.Stats().BudgetUsed == 0 })
	// Calls that hold the budget: blocked ones.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 64)
	held := 0
	for ; held < 64; held++ {
		go func() { errc <- f.client.Invoke(bctx, "s", routeBlock, &noArgs{}, nil) }()
		select {
		case <-f.svc.started:
			continue
		case err := <-errc:
			// Over budget: refused at once.
			wantCode(t, err, rt.ResourceExhausted)
			if !errors.Is(err, rt.ErrOverBudget) {
				t.Errorf("%v does not match runtime.ErrOverBudget", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a blocked call neither started nor was refused")
		}
		break
	}
	t.Logf("%d blocked calls filled a budget of %d bytes", held, budget)
	if held == 0 || held == 64 {
		t.Fatalf("%d calls held the budget of %d bytes", held, budget)
	}
	if got := f.rs.Stats().Refused[rt.ResourceExhausted]; got != 1 {
		t.Errorf("Stats().Refused[ResourceExhausted] = %d, want 1", got)
	}
	cancel()
	for range held {
		<-errc
	}
	// Room again once the cancelled handlers have returned.
	waitUntil(t, "the budget to have room again", func() bool { return echo(ctx, f.client, "after") == nil })
}

func TestUnknownServerFailsAtOnce(t *testing.T) {
	tr := tcp.NewTransport(tcp.NewStaticResolver(nil))
	defer tr.Close()
	start := time.Now()
	_, err := tr.RoundTrip(ctxFor(t, time.Minute), "nobody", &rt.Request{Route: routeEcho})
	wantCode(t, err, rt.Unavailable)
	if !strings.Contains(err.Error(), "nobody") {
		t.Errorf("error does not name the server: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second { // the deadline is a minute
		t.Errorf("took %v", d)
	}
}

// TestBackoff checks that a failed dial holds off further dials: calls fail
// at once with Unavailable, even once the server is up, until the hold-off
// has passed; then the same Transport connects.
func TestBackoff(t *testing.T) {
	addr := freeAddr(t)
	res := tcp.NewStaticResolver(map[string]string{"s": addr})
	const holdOff = time.Second
	tr := tcp.NewTransport(res, tcp.WithBackoff(holdOff, 2*holdOff), tcp.WithLogger(quiet))
	defer tr.Close()
	c := rt.NewClient(tr)
	ctx := ctxFor(t, 20*time.Second)

	begin := time.Now()
	wantCode(t, echo(ctx, c, "x"), rt.Unavailable)

	ln, err := listen(t, addr)
	if err != nil {
		t.Fatalf("cannot rebind %s: %v", addr, err)
	}
	f := serveOn(t, ln, nil)
	err = echo(ctx, c, "x")
	if time.Since(begin) < holdOff {
		wantCode(t, err, rt.Unavailable)
		if !strings.Contains(err.Error(), "next attempt") {
			t.Errorf("error during the hold-off does not say so: %v", err)
		}
		if n := f.ln.accepted.Load(); n != 0 {
			t.Fatalf("the transport dialled during its hold-off")
		}
	}
	// The hold-off counts from the failed dial, which a loaded machine may
	// make late: wait it out, then the same Transport connects.
	time.Sleep(time.Until(begin.Add(holdOff)))
	for {
		err := echo(ctx, c, "x")
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "next attempt") {
			t.Fatalf("after the hold-off: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeadServerFailsCallsAtOnce(t *testing.T) {
	f := start(t, nil, nil)
	errc := f.block(t, ctxFor(t, time.Minute), 5)
	start := time.Now()
	f.srv.Close()
	for range 5 {
		select {
		case err := <-errc:
			wantCode(t, err, rt.Unavailable)
		case <-time.After(5 * time.Second):
			t.Fatal("callers still waiting after the server died")
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("callers took %v to learn the server died", d)
	}
	// The handlers' contexts were cancelled with the connection.
	for range 5 {
		select {
		case <-f.svc.cancelled:
		case <-time.After(5 * time.Second):
			t.Fatal("handler ctx not cancelled when its connection closed")
		}
	}
}

func TestServerBackOnSameAddress(t *testing.T) {
	f := start(t, nil, []tcp.TransportOption{tcp.WithBackoff(5*time.Millisecond, 20*time.Millisecond)})
	ctx := ctxFor(t, 20*time.Second)
	if err := echo(ctx, f.client, "before"); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	wantCode(t, echo(ctx, f.client, "down"), rt.Unavailable)
	wantCode(t, echo(ctx, f.client, "down"), rt.Unavailable)

	ln, err := listen(t, f.addr)
	if err != nil {
		t.Fatalf("cannot rebind %s: %v", f.addr, err)
	}
	serveOn(t, ln, nil)
	waitUntil(t, "the transport to reach the restarted server", func() bool {
		return echo(ctx, f.client, "after") == nil
	})
}

func TestTransportClose(t *testing.T) {
	f := start(t, nil, nil)
	errc := f.block(t, ctxFor(t, time.Minute), 3)
	if err := f.tr.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case err := <-errc:
			if !errors.Is(err, tcp.ErrTransportClosed) {
				t.Fatalf("call in flight at Close: %v, want ErrTransportClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("call in flight did not return at Close")
		}
	}
	err := echo(ctxFor(t, 5*time.Second), f.client, "after")
	if !errors.Is(err, tcp.ErrTransportClosed) {
		t.Fatalf("call after Close: %v, want ErrTransportClosed", err)
	}
	wantCode(t, err, rt.Unavailable)
	if err := f.tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestServeAfterClose(t *testing.T) {
	srv := tcp.NewServer(newService().server())
	srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); err != tcp.ErrServerClosed {
		t.Fatalf("Serve after Close: %v, want ErrServerClosed", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Serve left the listener open")
	}
}

func TestShutdownGraceful(t *testing.T) {
	f := start(t, nil, nil)
	ctx := ctxFor(t, 10*time.Second)
	callCtx, cancelCalls := context.WithCancel(ctx)
	errc := f.block(t, callCtx, 3)
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with calls in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	// New calls are refused while the old ones run.
	wantCode(t, echo(ctx, f.client, "late"), rt.Unavailable)
	cancelCalls()
	for range 3 {
		wantCode(t, <-errc, rt.Canceled)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-f.served
	if f.serveErr != tcp.ErrServerClosed {
		t.Fatalf("Serve returned %v, want ErrServerClosed", f.serveErr)
	}
}

func TestShutdownDeadline(t *testing.T) {
	f := start(t, nil, nil)
	errc := f.block(t, ctxFor(t, time.Minute), 2)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := f.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its deadline: %v", err)
	}
	// It then closed everything, as Close does.
	for range 2 {
		select {
		case err := <-errc:
			wantCode(t, err, rt.Unavailable)
		case <-time.After(5 * time.Second):
			t.Fatal("calls still waiting after Shutdown gave up")
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoGoroutineLeaks runs a busy life of a transport and a server, then
// checks that stopping them leaves no goroutine behind.
func TestNoGoroutineLeaks(t *testing.T) {
	for _, stop := range []string{"Shutdown", "Close"} {
		t.Run(stop, func(t *testing.T) {
			before := settledGoroutines()
			func() {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				svc := newService()
				srv := tcp.NewServer(svc.server(), tcp.WithLogger(quiet))
				served := make(chan struct{})
				go func() {
					srv.Serve(ln)
					close(served)
				}()
				res := tcp.NewStaticResolver(map[string]string{"s": ln.Addr().String(), "dead": freeAddr(t)})
				tr := tcp.NewTransport(res, tcp.WithLogger(quiet))
				c := rt.NewClient(tr)
				ctx := ctxFor(t, 10*time.Second)
				var wg sync.WaitGroup
				for i := range 100 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := echo(ctx, c, fmt.Sprint(i)); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				c.Invoke(ctx, "dead", routeEcho, &echoArgs{}, &echoResult{})
				short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				c.Invoke(short, "s", routeBlock, &noArgs{}, nil)
				cancel()
				<-svc.cancelled

				tr.Close()
				if stop == "Shutdown" {
					if err := srv.Shutdown(ctx); err != nil {
						t.Fatal(err)
					}
				} else {
					srv.Close()
				}
				<-served
			}()
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					var buf bytes.Buffer
					pprof.Lookup("goroutine").WriteTo(&buf, 1)
					t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// settledGoroutines returns the number of goroutines once goroutines that
// earlier tests left winding down have ended.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// A ResolverFunc is a Resolver: its address is dialled, and its error
// becomes Unavailable naming the server.
func TestResolverFunc(t *testing.T) {
	f := start(t, nil, nil)
	r := tcp.ResolverFunc(func(_ context.Context, id string) (string, error) {
		if id == "s" {
			return f.addr, nil
		}
		return "", errors.New("no such server in the registry")
	})
	tr := tcp.NewTransport(r)
	defer tr.Close()
	c := rt.NewClient(tr)
	ctx := ctxFor(t, 5*time.Second)
	if err := echo(ctx, c, "x"); err != nil {
		t.Fatalf("call through a ResolverFunc: %v", err)
	}
	err := c.Invoke(ctx, "elsewhere", routeEcho, &echoArgs{A0: "x"}, &echoResult{})
	wantCode(t, err, rt.Unavailable)
	if !strings.Contains(err.Error(), "elsewhere") || !strings.Contains(err.Error(), "no such server in the registry") {
		t.Errorf("error does not say which server or why: %v", err)
	}
}
