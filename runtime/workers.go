package runtime

import (
	"sync"
	"sync/atomic"
)

// Workers runs functions on reused goroutines. Transports run each call's
// handler on a goroutine of its own; decoding grows that goroutine's stack,
// and a new goroutine per call pays for the growth every time (on small
// calls it was four tenths of the CPU), a reused one once.
type Workers struct {
	work    chan func()   // unbuffered: idle workers wait on it
	quit    chan struct{} // closed by Close, ending idle workers
	idle    atomic.Int32  // workers waiting for work, roughly
	maxIdle int32
	once    sync.Once
}

// NewWorkers returns a pool that keeps at most maxIdle goroutines waiting
// for work after a burst.
func NewWorkers(maxIdle int) *Workers {
	return &Workers{work: make(chan func()), quit: make(chan struct{}), maxIdle: int32(maxIdle)}
}

// Go runs f on an idle worker, or on a new goroutine when none is idle: it
// never waits for a worker to free up.
func (w *Workers) Go(f func()) {
	select {
	case w.work <- f:
	default:
		go w.loop(f)
	}
}

func (w *Workers) loop(f func()) {
	for {
		f()
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		select {
		case f = <-w.work:
			w.idle.Add(-1)
		case <-w.quit:
			w.idle.Add(-1)
			return
		}
	}
}

// Close ends the idle workers; busy ones end when their function returns.
// Go may still be called: it then starts a goroutine per function.
func (w *Workers) Close() {
	w.once.Do(func() { close(w.quit) })
}
