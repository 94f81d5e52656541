// Package callctx provides the context a transport gives each call it
// serves: it carries the caller's deadline and ends when the transport
// cancels it, for one allocation where context.WithTimeout takes four.
//
// A call's context is made for every call but waited on by few handlers, so
// the work that only waiting needs is put off until someone waits: the Done
// channel is made, and the deadline's timer started, by the first call to
// Done (which a derived context also makes). Err needs neither: it compares
// the deadline with the clock.
package callctx

import (
	"context"
	"sync"
	"time"
)

// Context is the context of one call. Make one with [New]; end it with
// [Context.Cancel]. Its values are its parent's. It is safe for concurrent
// use, and deriving contexts from it costs no goroutine: it implements the
// AfterFunc method the context package looks for.
type Context struct {
	parent   context.Context // asked for values other than key's
	deadline time.Time       // zero when the call has none
	key, val any             // one value of its own; key nil for none

	mu     sync.Mutex
	err    error         // set once, when the context ends
	done   chan struct{} // made by the first Done; closed when the context ends
	timer  *time.Timer   // ends the context at its deadline, once Done was called
	afters map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

// New returns the context of a call that has timeout left (none when timeout
// is 0 or less). parent supplies values only: it must never end, as
// context.Background and contexts that only add values to it never do.
func New(parent context.Context, timeout time.Duration) *Context {
	return NewWithValue(parent, timeout, nil, nil)
}

// NewWithValue is [New] for a context that also carries val under key, as
// context.WithValue(parent, key, val) would, without its allocation. key
// must be comparable.
func NewWithValue(parent context.Context, timeout time.Duration, key, val any) *Context {
	c := &Context{parent: parent, key: key, val: val}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
	return c
}

// Deadline implements context.Context.
func (c *Context) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Value implements context.Context: its own value, or the parent's.
func (c *Context) Value(key any) any {
	if c.key != nil && key == c.key {
		return c.val
	}
	return c.parent.Value(key)
}

// Done implements context.Context.
func (c *Context) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			c.startTimerLocked()
		}
	}
	return c.done
}

// Err implements context.Context: context.Canceled once cancelled,
// context.DeadlineExceeded once the deadline passed, else nil.
func (c *Context) Err() error {
	c.mu.Lock()
	if c.err != nil || c.deadline.IsZero() || time.Now().Before(c.deadline) {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.endLocked(context.DeadlineExceeded) // unlocks
	return context.DeadlineExceeded
}

// Cancel ends the context with context.Canceled, unless it has ended
// already. Transports call it when the call is over or its caller gave up.
func (c *Context) Cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.endLocked(context.Canceled) // unlocks
}

// AfterFunc arranges for f to run on a goroutine of its own once c ends, as
// context.AfterFunc does; stop reports whether it kept f from running. The
// context package calls it for contexts derived from c.
func (c *Context) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err == nil && (c.deadline.IsZero() || time.Now().Before(c.deadline)) {
		if c.afters == nil {
			c.afters = make(map[*afterFunc]struct{})
		}
		c.afters[a] = struct{}{}
		c.startTimerLocked()
		c.mu.Unlock()
		return func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			_, waiting := c.afters[a]
			delete(c.afters, a)
			return waiting
		}
	}
	if c.err == nil {
		c.endLocked(context.DeadlineExceeded) // unlocks
	} else {
		c.mu.Unlock()
	}
	go f()
	return func() bool { return false }
}

// String describes c, as the context package's contexts describe
// themselves.
func (c *Context) String() string {
	if dl, ok := c.Deadline(); ok {
		return "callctx.Context(deadline " + dl.String() + ")"
	}
	return "callctx.Context"
}

// startTimerLocked starts the timer that ends c at its deadline, if it has
// one and the timer is not running yet. Under c.mu.
func (c *Context) startTimerLocked() {
	if c.timer == nil && !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), c.expire)
	}
}

func (c *Context) expire() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.endLocked(context.DeadlineExceeded) // unlocks
}

// endLocked ends c with err, which c.err was not yet, unlocks c.mu and runs
// the functions waiting for the end.
func (c *Context) endLocked(err error) {
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for a := range afters {
		go a.f()
	}
}
