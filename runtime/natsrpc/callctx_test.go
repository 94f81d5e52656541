package natsrpc

import (
	"context"
	"errors"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// A call's context costs nothing beyond its serverCall until someone asks
// for Done: context.WithTimeout cost four allocations and a timer per call.
func TestCallCtxAllocatesNothingUntilDone(t *testing.T) {
	var c serverCall
	allocs := testing.AllocsPerRun(100, func() {
		c.ctx = callCtx{}
		c.ctx.init(time.Hour)
		if _, ok := c.ctx.Deadline(); !ok {
			t.Fatal("no deadline")
		}
		if err := c.ctx.Err(); err != nil {
			t.Fatal(err)
		}
		c.ctx.cancel()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per call context, want 0", allocs)
	}
}

func TestCallCtxDeadline(t *testing.T) {
	var c callCtx
	c.init(20 * time.Millisecond)
	dl, ok := c.Deadline()
	if !ok || time.Until(dl) > 20*time.Millisecond {
		t.Fatalf("Deadline() = %v, %v, want within 20ms", dl, ok)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err() before the deadline = %v", err)
	}
	time.Sleep(30 * time.Millisecond)
	// Past the deadline, without Done ever called.
	if err := c.Err(); err != context.DeadlineExceeded {
		t.Fatalf("Err() after the deadline = %v, want DeadlineExceeded", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done() after the deadline is not closed")
	}
	c.cancel()
	if err := c.Err(); err != context.DeadlineExceeded {
		t.Fatalf("Err() after the deadline and cancel = %v, want DeadlineExceeded", err)
	}

	// Done asked for first: closed by the deadline's timer.
	var w callCtx
	w.init(20 * time.Millisecond)
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done() not closed at the deadline")
	}
	if err := w.Err(); err != context.DeadlineExceeded {
		t.Fatalf("Err() = %v, want DeadlineExceeded", err)
	}
}

func TestCallCtxCancel(t *testing.T) {
	// Cancelled before Done was asked for.
	var c callCtx
	c.init(time.Hour)
	c.cancel()
	if err := c.Err(); err != context.Canceled {
		t.Fatalf("Err() = %v, want Canceled", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done() of a cancelled context is not closed")
	}

	// Cancelled while someone waits on Done; without a deadline.
	var w callCtx
	w.init(0)
	if _, ok := w.Deadline(); ok {
		t.Fatal("a deadline without a timeout")
	}
	done := w.Done()
	go w.cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not close Done")
	}
	if err := w.Err(); err != context.Canceled {
		t.Fatalf("Err() = %v, want Canceled", err)
	}
}

// Contexts a handler derives from its call's context, through the peer's
// value, hang from the real context: no goroutine each, as the context
// package starts for a parent it does not know, and cancelling the call
// ends them.
func TestCallCtxChildren(t *testing.T) {
	var c serverCall
	c.ctx.init(time.Hour)
	ctx := runtime.ContextWithPeer(&c.ctx, &c.peer)
	before := goruntime.NumGoroutine()
	var children []context.Context
	for range 50 {
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		children = append(children, child)
	}
	if n := goroutinesAbove(before); n > 0 {
		t.Fatalf("deriving 50 contexts started %d goroutines", n)
	}
	if p, ok := runtime.PeerFromContext(children[0]); !ok || p != &c.peer {
		t.Fatal("the peer is lost in a derived context")
	}
	c.ctx.cancel()
	for _, child := range children {
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a derived context outlived the call's cancellation")
		}
		if !errors.Is(child.Err(), context.Canceled) {
			t.Fatalf("derived Err() = %v, want Canceled", child.Err())
		}
	}
}

// goroutinesAbove returns how many more goroutines than n run, after
// letting goroutines that are ending end.
func goroutinesAbove(n int) int {
	for range 100 {
		if goruntime.NumGoroutine() <= n {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return goruntime.NumGoroutine() - n
}

// Cancel, Done, Err and Value from many goroutines at once: for -race.
func TestCallCtxConcurrent(t *testing.T) {
	for range 100 {
		var c callCtx
		c.init(time.Millisecond)
		var wg sync.WaitGroup
		wg.Go(c.cancel)
		wg.Go(func() { <-c.Done() })
		wg.Go(func() { _ = c.Err() })
		wg.Go(func() { _ = c.Value("k") })
		wg.Go(c.cancel)
		wg.Wait()
		if c.Err() == nil {
			t.Fatal("Err() nil after cancel")
		}
	}
}
