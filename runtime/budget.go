package runtime

import (
	"sync"
	"sync/atomic"
	"time"
)

// Budget bounds the bytes a server holds for calls: requests being decoded or
// handled, answers waiting to be written. A [Server] has one for all its
// transports ([WithServerBudget]); a transport makes one per connection with
// [Endpoint.NewBudget], whose charges also count against the server's.
//
// A charge that fits the budget on its own is never refused for size: when
// nothing is charged, any charge succeeds. So the largest legal call always
// runs, one at a time if need be.
type Budget struct {
	limit  int64
	used   atomic.Int64
	parent *Budget

	waiters atomic.Int32 // goroutines in Wait; Release takes mu only then
	mu      sync.Mutex
	space   chan struct{} // closed by a Release that a waiter may need
}

// NewBudget returns a budget of limit bytes whose charges also count against
// parent, if not nil. A limit of 0 or less means no limit of its own.
func NewBudget(limit int64, parent *Budget) *Budget {
	return &Budget{limit: limit, parent: parent}
}

// TryAcquire charges n bytes unless that would take the budget, or its
// parent's, over its limit while something else is charged. It reports
// whether it charged them.
func (b *Budget) TryAcquire(n int) bool {
	if b == nil {
		return true
	}
	if !b.tryLocal(int64(n)) {
		return false
	}
	if !b.parent.TryAcquire(n) {
		b.releaseLocal(int64(n))
		return false
	}
	return true
}

func (b *Budget) tryLocal(n int64) bool {
	if b.limit <= 0 {
		b.used.Add(n)
		return true
	}
	for {
		u := b.used.Load()
		if u != 0 && u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Acquire charges n bytes whatever the limit: for memory that is held
// already, such as an answer that must be sent.
func (b *Budget) Acquire(n int) {
	for ; b != nil; b = b.parent {
		b.used.Add(int64(n))
	}
}

// Release gives back n bytes charged before.
func (b *Budget) Release(n int) {
	for ; b != nil; b = b.parent {
		b.releaseLocal(int64(n))
	}
}

func (b *Budget) releaseLocal(n int64) {
	b.used.Add(-n)
	if b.waiters.Load() > 0 {
		b.mu.Lock()
		if b.space != nil {
			close(b.space)
			b.space = nil
		}
		b.mu.Unlock()
	}
}

// Used returns the bytes charged now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Limit returns the budget's limit; 0 for none.
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// AcquireWait charges n bytes as [Budget.TryAcquire] does, waiting for
// releases while it cannot, until deadline (none when zero) or until stop is
// closed. It reports whether it charged them.
func (b *Budget) AcquireWait(n int, deadline time.Time, stop <-chan struct{}) bool {
	if b.TryAcquire(n) {
		return true
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	for {
		// Wait on the budget that refused: this one or an ancestor.
		w := b
		for ; w != nil; w = w.parent {
			if w.limit > 0 && w.used.Load() != 0 && w.used.Load()+int64(n) > w.limit {
				break
			}
		}
		if w == nil {
			w = b
		}
		w.waiters.Add(1)
		w.mu.Lock()
		if w.space == nil {
			w.space = make(chan struct{})
		}
		space := w.space
		w.mu.Unlock()
		// A release between the check above and here closed an older
		// channel; try once more before sleeping.
		if b.TryAcquire(n) {
			w.waiters.Add(-1)
			return true
		}
		select {
		case <-space:
		case <-timeout:
			w.waiters.Add(-1)
			return false
		case <-stop:
			w.waiters.Add(-1)
			return false
		}
		w.waiters.Add(-1)
		if b.TryAcquire(n) {
			return true
		}
	}
}
