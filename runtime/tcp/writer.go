package tcp

import (
	"crypto/tls"
	"errors"
	"net"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

const (
	// highWater is how many queued bytes make senders wait for the
	// connection to catch up, so that a peer that stops reading cannot make
	// us buffer without bound. A frame is never split: the queue may hold up
	// to highWater plus one frame.
	highWater = 1 << 20
	// retainMax is the largest buffer a writer keeps for reuse after a big
	// frame went out; larger ones go back to the garbage collector.
	retainMax = 256 << 10
	// minBatch is the size under which the writer yields once before
	// writing, to let more frames join the batch.
	minBatch = 4 << 10
	// parkRetain is the largest buffer a writer keeps while it has nothing
	// to write, so that a connection gone quiet after a burst holds little.
	parkRetain = 16 << 10
)

var (
	errWaitAborted = errors.New("wait aborted")
	errDrained     = errors.New("connection drained")
)

// writer is the one goroutine that writes a connection. Senders append whole
// frames to its queue under its lock (see [writer.begin]) and return; the
// goroutine takes everything queued and writes it with one Write, so that
// frames queued while a write is in progress go out together: one syscall
// for a batch of calls under load. Before writing a small batch it yields
// once, so that senders that are ready to run (callers just woken by
// answers, handlers just finished) join it; grpc-go's writer does the same.
// Measured on loopback, the yield makes lone calls no slower, and writing
// from the sender's goroutine when the writer is idle made them slower.
//
// Two buffers take turns, so a steady state allocates nothing, and senders
// never wait for a syscall: a caller always returns by its deadline.
type writer struct {
	nc     net.Conn
	onStop func(error) // called once by the goroutine when it stops
	// timeout closes the connection when the peer accepts no byte of a
	// write for that long (0: never); see [WithFrameTimeout].
	timeout  time.Duration
	deadline int64 // the write deadline set on nc, in mono time; goroutine only

	full atomic.Bool // the queue is over highWater; see [writer.waitRoom]

	mu     sync.Mutex
	queue  []byte        // frames waiting to be written
	spare  []byte        // the other buffer, while not in use
	parked bool          // the goroutine waits on wake
	wake   chan struct{} // capacity 1
	space  chan struct{} // closed when the queue empties; made by senders that wait
	err    error         // why the writer stopped; senders fail with it
	drain  bool          // stop once the queue is written

	writes, frames uint64 // under mu, for tests

	// budget, on a server, is charged with the bytes queued until they are
	// written; nil on a client.
	budget *runtime.Budget
}

func newWriter(nc net.Conn, timeout time.Duration, onStop func(error)) *writer {
	return &writer{nc: nc, onStop: onStop, timeout: timeout, wake: make(chan struct{}, 1)}
}

// begin locks w and returns the queue for the caller to append one frame to;
// the caller must then call [writer.commit]. Unless force is set, begin first
// waits while the queue is over highWater, until there is room, abort is
// closed (errWaitAborted) or the writer stops (its error). On error w is not
// locked.
func (w *writer) begin(abort <-chan struct{}, force bool) ([]byte, error) {
	w.mu.Lock()
	for {
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return nil, err
		}
		if force || len(w.queue) < highWater {
			return w.queue, nil
		}
		if w.space == nil {
			w.space = make(chan struct{})
		}
		space := w.space
		w.mu.Unlock()
		select {
		case <-space:
		case <-abort:
			return nil, errWaitAborted
		}
		w.mu.Lock()
	}
}

// commit stores the queue that [writer.begin] returned, now one frame longer
// (or not, when framed is false), wakes the goroutine and unlocks w.
func (w *writer) commit(queue []byte, framed bool) {
	w.budget.Acquire(len(queue) - len(w.queue))
	w.queue = queue
	if framed {
		w.frames++
	}
	if len(queue) >= highWater {
		w.full.Store(true)
	}
	if len(queue) > 0 {
		w.signal()
	}
	w.mu.Unlock()
}

// signal wakes the goroutine if it is parked. Under w.mu.
func (w *writer) signal() {
	if w.parked {
		w.parked = false
		w.wake <- struct{}{} // never blocks: the goroutine took the last one
	}
}

// waitRoom waits while the queue is over highWater, until the goroutine has
// taken it or the writer stopped (its error). A server's reader calls it
// before reading each frame when [writer.full] is set: a peer that does not
// read its answers then finds its requests no longer read either.
func (w *writer) waitRoom() error {
	if _, err := w.begin(nil, false); err != nil {
		return err
	}
	w.mu.Unlock()
	return nil
}

// stop makes the writer stop with err: frames not yet written are dropped
// and senders fail with err. A Write in progress ends only when the
// connection is closed.
func (w *writer) stop(err error) {
	w.mu.Lock()
	w.stopLocked(err)
	w.mu.Unlock()
}

func (w *writer) stopLocked(err error) {
	if w.err != nil {
		return
	}
	w.err = err
	w.budget.Release(len(w.queue))
	w.queue = nil
	w.full.Store(false)
	if w.space != nil {
		close(w.space)
		w.space = nil
	}
	w.signal()
}

// stopWhenDrained makes the writer stop once everything queued is written.
func (w *writer) stopWhenDrained() {
	w.mu.Lock()
	w.drain = true
	w.signal()
	w.mu.Unlock()
}

// run is the writer's goroutine. It writes until the writer stops, then
// calls onStop with the reason: errDrained after [writer.stopWhenDrained],
// else the write error or the error given to [writer.stop].
func (w *writer) run() {
	yielded := false
	w.mu.Lock()
	for w.err == nil {
		if len(w.queue) == 0 {
			if w.drain {
				w.stopLocked(errDrained)
				break
			}
			if cap(w.queue) > parkRetain {
				w.queue = nil
			}
			if cap(w.spare) > parkRetain {
				w.spare = nil
			}
			w.parked = true
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
			continue
		}
		if len(w.queue) < minBatch && !yielded {
			yielded = true
			w.mu.Unlock()
			goruntime.Gosched()
			w.mu.Lock()
			continue
		}
		yielded = false
		out := w.queue
		w.queue, w.spare = w.spare[:0], nil
		w.full.Store(false)
		if w.space != nil {
			close(w.space)
			w.space = nil
		}
		w.writes++
		w.mu.Unlock()
		err := w.write(out)
		w.budget.Release(len(out))
		w.mu.Lock()
		if err != nil {
			w.stopLocked(err)
			break
		}
		if cap(out) <= retainMax {
			w.spare = out[:0]
		}
	}
	err := w.err
	w.mu.Unlock()
	w.onStop(err)
}

// write writes out. With a timeout it gives up once the peer has accepted
// no byte for between timeout/2 and timeout: a peer that reads slowly is
// served, one that stopped reading is not waited for.
//
// A Write that hits its deadline says how many bytes it wrote, not when, so
// each attempt gets at most timeout/2 and the writer gives up after a whole
// attempt of timeout/2 that wrote nothing: the last byte went out at most an
// attempt earlier. On plain connections the deadline is moved on lazily,
// about once per timeout/4 under load rather than once per write. A TLS
// connection cannot write again after a deadline passed (and may have
// written part of a record), so there each write gets the whole timeout as
// a deadline of its own, and missing it ends the connection.
func (w *writer) write(out []byte) error {
	if w.timeout <= 0 {
		_, err := w.nc.Write(out)
		return err
	}
	if _, ok := w.nc.(*tls.Conn); ok {
		w.nc.SetWriteDeadline(time.Now().Add(w.timeout))
		_, err := w.nc.Write(out)
		return err
	}
	attempt := int64(w.timeout) / 2
	progress := mono() // when an attempt last wrote bytes, or the write began
	for {
		if w.deadline < progress+attempt/2 {
			w.deadline = progress + attempt
			w.nc.SetWriteDeadline(at(w.deadline))
		}
		n, err := w.nc.Write(out)
		if err == nil || !isTimeout(err) {
			return err
		}
		out, w.deadline = out[n:], 0 // passed: set a new one
		if now := mono(); n > 0 {
			progress = now
		} else if now-progress >= attempt {
			return err
		}
	}
}

// stats returns how many writes and frames w has made, for tests.
func (w *writer) stats() (writes, frames uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.frames
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
