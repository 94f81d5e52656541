package natsrpc

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context a call's handler runs under: it ends at the
// caller's deadline, or when cancelled (by the caller's cancel message, by
// Close, or once the handler has returned).
//
// Why not context.WithTimeout: that costs four allocations and a timer per
// call, made on the subscription's goroutine, and most handlers never wait
// on their context. A callCtx lives inside its serverCall and makes the real
// context, with its channel and timer, only when someone asks for Done: a
// handler that selects on it, or a context derived from it. Until then
// Deadline and Err answer from the deadline alone.
//
// Value hands every key to the real context once it exists. That is how a
// context derived from a callCtx finds the real one to hang from (the
// context package looks for its own parent through Value), instead of
// starting a goroutine to watch Done.
type callCtx struct {
	deadline time.Time // zero: no deadline

	mu         sync.Mutex
	real       context.Context    // made by the first Done; nil until then
	cancelReal context.CancelFunc // real's
	err        error              // the end, while real is nil
}

// init sets the deadline, timeout from now; 0 means none.
func (c *callCtx) init(timeout time.Duration) {
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
}

// Deadline implements context.Context.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Done implements context.Context. The first call makes the real context.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil {
		if c.deadline.IsZero() {
			c.real, c.cancelReal = context.WithCancel(context.Background())
		} else {
			// A deadline already past makes it done at once.
			c.real, c.cancelReal = context.WithDeadline(context.Background(), c.deadline)
		}
		if c.err == context.Canceled {
			c.cancelReal()
		}
	}
	return c.real.Done()
}

// Err implements context.Context.
func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real != nil {
		return c.real.Err()
	}
	if c.err == nil && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
	return c.err
}

// Value implements context.Context: nothing until the real context exists,
// then whatever it says.
func (c *callCtx) Value(key any) any {
	c.mu.Lock()
	real := c.real
	c.mu.Unlock()
	if real == nil {
		return nil
	}
	return real.Value(key)
}

// String names the context in fmt output, as the context package's own do.
func (c *callCtx) String() string { return "natsrpc.callCtx" }

// cancel ends c with context.Canceled unless it ended already; it may be
// called any number of times.
func (c *callCtx) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real != nil {
		c.cancelReal()
	} else if c.err == nil {
		if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
			c.err = context.DeadlineExceeded
		} else {
			c.err = context.Canceled
		}
	}
}
