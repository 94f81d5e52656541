package runtime

import (
	"sync"
	"sync/atomic"
)

// Workers runs jobs of type T on reused goroutines. Transports run each
// call's handler on a goroutine of its own; decoding grows that goroutine's
// stack, and a new goroutine per call pays for the growth every time (on
// small calls it was four tenths of the CPU), a reused one once. Jobs travel
// as values of T, so handing one over allocates nothing.
type Workers[T any] struct {
	run     func(T)
	work    chan T        // unbuffered: idle workers wait on it
	quit    chan struct{} // closed by Close, ending idle workers
	idle    atomic.Int32  // workers waiting for work, roughly
	maxIdle int32
	once    sync.Once
}

// NewWorkers returns a pool that calls run for each job and keeps at most
// maxIdle goroutines waiting for work after a burst.
func NewWorkers[T any](maxIdle int, run func(T)) *Workers[T] {
	return &Workers[T]{run: run, work: make(chan T), quit: make(chan struct{}), maxIdle: int32(maxIdle)}
}

// Go runs job on an idle worker, or on a new goroutine when none is idle: it
// never waits for a worker to free up.
func (w *Workers[T]) Go(job T) {
	select {
	case w.work <- job:
	default:
		go w.loop(job)
	}
}

func (w *Workers[T]) loop(job T) {
	for {
		w.run(job)
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		select {
		case job = <-w.work:
			w.idle.Add(-1)
		case <-w.quit:
			w.idle.Add(-1)
			return
		}
	}
}

// Idle returns roughly how many workers wait for work.
func (w *Workers[T]) Idle() int { return int(w.idle.Load()) }

// Close ends the idle workers; busy ones end when their job returns. Go may
// still be called: it then starts a goroutine per job.
func (w *Workers[T]) Close() {
	w.once.Do(func() { close(w.quit) })
}
