package tcp_test

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// faultService has a route that works a little, honouring its ctx, and one
// that never returns until released, ignoring its ctx.
type faultService struct {
	stuckStarted   chan struct{} // receives when a stuck call runs
	stuckCancelled chan error    // receives a stuck call's ctx error
	release        chan struct{} // closed to let stuck calls return
	stuckReturned  atomic.Int64
}

const (
	routeWork  = "fault.svc.work"
	routeStuck = "fault.svc.stuck"
)

type workArgs struct{ A0 int } // milliseconds

func newFaultService(t *testing.T) *faultService {
	s := &faultService{stuckStarted: make(chan struct{}, 16), stuckCancelled: make(chan error, 16), release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *faultService) server() *rt.Server {
	srv := rt.NewServer(rt.WithLogger(quiet))
	srv.RegisterService(&rt.ServiceDesc{Name: "fault.svc", Methods: []rt.MethodDesc{
		{Route: routeWork, NewArgs: func() any { return new(workArgs) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				select {
				case <-time.After(time.Duration(args.(*workArgs).A0) * time.Millisecond):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}},
		{Route: routeStuck, NewArgs: func() any { return new(noArgs) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				context.AfterFunc(ctx, func() { s.stuckCancelled <- ctx.Err() })
				s.stuckStarted <- struct{}{}
				<-s.release // ignores ctx
				s.stuckReturned.Add(1)
				return nil
			}},
	}}, s)
	return srv
}

// serveFault serves svc on ln; the returned func waits for Serve to return.
func serveFault(svc *faultService, ln net.Listener) (*tcp.Server, func()) {
	srv := tcp.NewServer(svc.server(), tcp.WithLogger(quiet))
	served := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(served)
	}()
	return srv, func() { <-served }
}

// callRecord is one call a caller made.
type callRecord struct {
	start, end, deadline time.Time
	err                  error
}

// TestServerKilledMidLoad closes a server under 64 callers: every call
// returns by its deadline, those in flight with Unavailable at once; while
// the server is down calls fail fast; once it is back on the same address
// the same Transport reaches it by itself within its backoff cap; and after
// everything is closed no goroutine is left.
func TestServerKilledMidLoad(t *testing.T) {
	const (
		callers     = 64
		callTimeout = time.Second
		backoffMax  = 200 * time.Millisecond
		slack       = 100 * time.Millisecond
	)
	before := settledGoroutines()
	svc := newFaultService(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv, served := serveFault(svc, ln)
	tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{"s": addr}), tcp.WithBackoff(10*time.Millisecond, backoffMax), tcp.WithLogger(quiet))
	c := rt.NewClient(tr)

	records := make([][]callRecord, callers)
	lastOK := make([]atomic.Int64, callers) // when a caller's call last succeeded
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				deadline, _ := ctx.Deadline()
				begin := time.Now()
				err := c.Invoke(ctx, "s", routeWork, &workArgs{A0: 2}, nil)
				end := time.Now()
				records[i] = append(records[i], callRecord{begin, end, deadline, err})
				cancel()
				if err != nil {
					time.Sleep(5 * time.Millisecond)
				} else {
					lastOK[i].Store(end.UnixNano())
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	closedAt := time.Now()
	srv.Close()
	served()
	time.Sleep(300 * time.Millisecond)

	ln, err = listen(t, addr)
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	srv, served = serveFault(svc, ln)
	restartedAt := time.Now()
	// Every caller gets through again, without help.
	for deadline := time.Now().Add(backoffMax + 3*time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := 0
		for i := range lastOK {
			if lastOK[i].Load() > restartedAt.UnixNano() {
				n++
			}
		}
		if n == callers || time.Now().After(deadline) {
			break
		}
	}
	close(stop)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(callTimeout + 2*time.Second):
		t.Fatal("callers still hanging")
	}

	var total, inFlight, down int
	var slowestFail, slowestRecovery time.Duration
	for i, recs := range records {
		recoveredAt := time.Time{}
		for _, r := range recs {
			total++
			code := rt.CodeOf(r.err)
			if r.end.After(r.deadline.Add(slack)) {
				t.Errorf("caller %d: a call returned %v after its deadline", i, r.end.Sub(r.deadline))
			}
			switch code {
			case rt.OK, rt.Unavailable:
			case rt.DeadlineExceeded:
				if r.end.Before(r.deadline.Add(-slack)) {
					t.Errorf("caller %d: DeadlineExceeded %v before the deadline", i, r.deadline.Sub(r.end))
				}
			default:
				t.Errorf("caller %d: %v", i, r.err)
			}
			switch {
			case r.start.Before(closedAt) && r.end.After(closedAt):
				inFlight++
				if code != rt.OK {
					slowestFail = max(slowestFail, r.end.Sub(closedAt))
				}
			case r.start.After(closedAt) && r.end.Before(restartedAt):
				down++
				if code != rt.Unavailable {
					t.Errorf("caller %d: a call while the server was down: %v", i, r.err)
				}
				slowestFail = max(slowestFail, r.end.Sub(r.start))
			case r.start.After(restartedAt) && code == rt.OK && recoveredAt.IsZero():
				recoveredAt = r.end
			}
		}
		if recoveredAt.IsZero() {
			t.Errorf("caller %d never got through to the restarted server", i)
			continue
		}
		slowestRecovery = max(slowestRecovery, recoveredAt.Sub(restartedAt))
	}
	t.Logf("%d calls by %d callers: %d in flight when the server closed, %d while it was down; the slowest failure took %v; all callers through again within %v of the restart (backoff cap %v)",
		total, callers, inFlight, down, slowestFail.Round(time.Millisecond), slowestRecovery.Round(time.Millisecond), backoffMax)
	if slowestFail > 10*time.Second { // "at once", with room for a loaded machine
		t.Errorf("a call took %v to fail with the server gone", slowestFail)
	}
	if slowestRecovery > backoffMax+10*time.Second {
		t.Errorf("a caller took %v to get through after the restart", slowestRecovery)
	}

	tr.Close()
	srv.Close()
	served()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines before, %d after Transport.Close and Server.Close:\n%s", before, runtime.NumGoroutine(), buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHandlerIgnoringContext runs a handler that never returns and ignores
// its ctx: the caller still returns at its deadline, the handler's ctx is
// cancelled, the connection keeps serving, and Server.Close does not wait
// for the handler.
func TestHandlerIgnoringContext(t *testing.T) {
	svc := newFaultService(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, served := serveFault(svc, ln)
	defer func() {
		srv.Close()
		served()
	}()
	tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{"s": ln.Addr().String()}), tcp.WithLogger(quiet))
	defer tr.Close()
	c := rt.NewClient(tr)

	const timeout = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	begin := time.Now()
	err = c.Invoke(ctx, "s", routeStuck, &noArgs{}, nil)
	took := time.Since(begin)
	wantCode(t, err, rt.DeadlineExceeded)
	if took > timeout+5*time.Second {
		t.Errorf("the caller returned %v after its deadline", took-timeout)
	}
	select {
	case <-svc.stuckStarted:
	default:
		t.Fatal("the call never reached the handler")
	}
	select {
	case err := <-svc.stuckCancelled:
		t.Logf("caller returned after %v; the handler's ctx ended with %v", took.Round(time.Millisecond), err)
	case <-time.After(2 * time.Second):
		t.Fatal("the handler's ctx was not cancelled")
	}
	if n := svc.stuckReturned.Load(); n != 0 {
		t.Fatal("the stuck handler returned")
	}
	if err := c.Invoke(ctxFor(t, 5*time.Second), "s", routeWork, &workArgs{}, nil); err != nil {
		t.Fatalf("call beside the stuck one: %v", err)
	}
	begin = time.Now()
	srv.Close()
	// Close waits a grace period for the cancelled handlers, not forever.
	if d := time.Since(begin); d > rt.CloseGrace+10*time.Second {
		t.Errorf("Server.Close took %v with a stuck handler", d)
	}
	if n := svc.stuckReturned.Load(); n != 0 {
		t.Fatal("the stuck handler returned before it was released")
	}
}
