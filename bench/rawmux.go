package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	goruntime "runtime"
	"sync"
)

// raw-mux-tcp is the floor for a multiplexed RPC over one TCP connection:
// everything sessionrpc-tcp does to move a call, and nothing else. No codec,
// no envelope, no route, no deadline on the wire, no interceptors:
//
//   - one connection, shared by every caller;
//   - a frame is a 4-byte big-endian length, an 8-byte call id and the 48
//     bytes of the message;
//   - one writer goroutine per connection end, coalescing the way
//     sessionrpc's TCP writer does: senders append whole frames to a shared
//     queue under a mutex and return; the goroutine yields once before
//     writing a small batch, so that senders ready to run join it, then
//     writes everything queued with one Write;
//   - one reader goroutine per connection end, parsing frames in place in
//     its read buffer (64 KiB on the client, 4 KiB on the server, as
//     sessionrpc's);
//   - on the client, the call id matched to the waiting caller through a map
//     under a mutex; on the server, each request answered by appending the
//     same id and bytes to the writer's queue.
//
// The server answers inline, on its reader goroutine (peer raw-mux-tcp):
// the echo cannot block, so the floor need not pay for a hand-off that only
// protects against handlers that do. That is what makes it a floor rather
// than a competitor: it is the least any multiplexed request/response over
// one TCP connection can cost on this machine, so the ratio to it is the
// whole of what sessionrpc adds, the per-call hand-off to a worker
// included. The extra peer raw-mux-tcp-go answers each request on a
// goroutine of its own instead, as a server must when handlers may block;
// the difference between the two is the price of that hand-off.

const (
	muxHeader     = 4 + 8    // length prefix and call id
	muxMinBatch   = 4 << 10  // the size under which the writer yields once before writing
	muxClientRead = 64 << 10 // read buffer of the client's connection
	muxServerRead = 4 << 10  // read buffer of a server connection
)

var (
	errMuxClosed = errors.New("raw-mux-tcp: closed")
	muxMessage   = []byte(message)
)

// muxWriter is the one goroutine that writes a connection; see
// runtime/tcp's writer, whose shape it copies without its limits and
// timeouts (a benchmark's peer always reads).
type muxWriter struct {
	nc     net.Conn
	mu     sync.Mutex
	queue  []byte        // frames waiting to be written
	spare  []byte        // the other buffer, while not in use
	parked bool          // the goroutine waits on wake
	wake   chan struct{} // capacity 1
	err    error         // why the writer stopped
}

func newMuxWriter(nc net.Conn) *muxWriter {
	return &muxWriter{nc: nc, wake: make(chan struct{}, 1)}
}

// send queues the frame of call id with payload p; p may be reused once
// send returns.
func (w *muxWriter) send(id uint64, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.queue = binary.BigEndian.AppendUint32(w.queue, uint32(8+len(p)))
	w.queue = binary.BigEndian.AppendUint64(w.queue, id)
	w.queue = append(w.queue, p...)
	w.signal()
	return nil
}

// signal wakes the goroutine if it is parked. Under w.mu.
func (w *muxWriter) signal() {
	if w.parked {
		w.parked = false
		w.wake <- struct{}{} // never blocks: the goroutine took the last one
	}
}

// stop makes the writer stop with err; frames not yet written are dropped.
func (w *muxWriter) stop(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
		w.queue = nil
	}
	w.signal()
	w.mu.Unlock()
}

// run is the writer's goroutine; it returns when the writer stops or a
// write fails.
func (w *muxWriter) run() {
	yielded := false
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.err == nil {
		if len(w.queue) == 0 {
			w.parked = true
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
			continue
		}
		if len(w.queue) < muxMinBatch && !yielded {
			yielded = true
			w.mu.Unlock()
			goruntime.Gosched()
			w.mu.Lock()
			continue
		}
		yielded = false
		out := w.queue
		w.queue, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		_, err := w.nc.Write(out)
		w.mu.Lock()
		if err != nil {
			if w.err == nil {
				w.err = err
			}
			return
		}
		w.spare = out[:0]
	}
}

// readMuxFrames reads frames from r until an error, calling f with each
// frame's id and payload. The payload aliases r's buffer: f must be done
// with it when it returns. A frame that does not fit in r's buffer is a
// protocol error: no peer here sends one.
func readMuxFrames(r *bufio.Reader, f func(id uint64, p []byte) error) error {
	for {
		hdr, err := r.Peek(4)
		if err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr))
		if n < 8 || 4+n > r.Size() {
			return fmt.Errorf("raw-mux-tcp: bad frame length %d", n)
		}
		b, err := r.Peek(4 + n)
		if err != nil {
			return err
		}
		if err := f(binary.BigEndian.Uint64(b[4:]), b[muxHeader:]); err != nil {
			return err
		}
		_, _ = r.Discard(4 + n) // cannot fail: the bytes are buffered
	}
}

// muxCall is one call waiting for its answer; calls are reused.
type muxCall struct {
	done   chan struct{} // capacity 1: the reader never waits
	answer []byte        // a copy of the answer's payload
	err    error         // set instead when the connection died
}

// muxTarget is raw-mux-tcp and raw-mux-tcp-go: a client and a server in
// one, on loopback. ctx ends a wait for an answer, as a deadline would.
type muxTarget struct {
	peer string

	// The client.
	cw    *muxWriter
	cnc   net.Conn
	mu    sync.Mutex
	next  uint64
	calls map[uint64]*muxCall
	dead  error // the connection died; no more calls
	pool  sync.Pool

	// The server.
	ln     net.Listener
	spawn  bool // answer each request on a goroutine of its own
	smu    sync.Mutex
	sconns map[net.Conn]bool

	wg sync.WaitGroup // every goroutine of either side
}

func newRawMux(*env) (target, error)   { return startRawMux("raw-mux-tcp", false) }
func newRawMuxGo(*env) (target, error) { return startRawMux("raw-mux-tcp-go", true) }

func startRawMux(peer string, spawn bool) (target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &muxTarget{peer: peer, ln: ln, spawn: spawn, sconns: map[net.Conn]bool{}, calls: map[uint64]*muxCall{}}
	t.pool.New = func() any { return &muxCall{done: make(chan struct{}, 1)} }
	t.wg.Add(1)
	go t.accept()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.close()
		return nil, err
	}
	t.cnc, t.cw = nc, newMuxWriter(nc)
	t.wg.Add(2)
	go func() { defer t.wg.Done(); t.cw.run() }()
	go t.read()
	return t, nil
}

func (t *muxTarget) name() string { return t.peer }

func (t *muxTarget) call(ctx context.Context) error {
	c := t.pool.Get().(*muxCall)
	t.mu.Lock()
	if t.dead != nil {
		t.mu.Unlock()
		t.pool.Put(c)
		return t.dead
	}
	id := t.next
	t.next++
	t.calls[id] = c
	t.mu.Unlock()
	if err := t.cw.send(id, muxMessage); err != nil {
		if t.forget(id) {
			t.pool.Put(c)
		}
		return err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		// The reader may have taken the call meanwhile and will signal
		// it: then it cannot be reused.
		if t.forget(id) {
			t.pool.Put(c)
		}
		return ctx.Err()
	}
	err := c.err
	if err == nil {
		err = checkEchoBytes(c.answer)
	}
	c.err = nil
	t.pool.Put(c)
	return err
}

// forget removes call id from the calls in flight and reports whether it
// was there.
func (t *muxTarget) forget(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.calls[id]
	delete(t.calls, id)
	return ok
}

// read is the client's reader: it hands each answer to its caller, and
// fails every call in flight when the connection dies.
func (t *muxTarget) read() {
	defer t.wg.Done()
	err := readMuxFrames(bufio.NewReaderSize(t.cnc, muxClientRead), func(id uint64, p []byte) error {
		t.mu.Lock()
		c, ok := t.calls[id]
		delete(t.calls, id)
		t.mu.Unlock()
		if !ok {
			return nil // its caller gave up
		}
		c.answer = append(c.answer[:0], p...)
		c.done <- struct{}{}
		return nil
	})
	if err == nil {
		err = errMuxClosed
	}
	t.cw.stop(err)
	t.mu.Lock()
	t.dead = fmt.Errorf("raw-mux-tcp: connection lost: %w", err)
	calls := t.calls
	t.calls = nil
	t.mu.Unlock()
	for _, c := range calls {
		c.err = t.dead
		c.done <- struct{}{}
	}
}

// accept is the server's accept loop.
func (t *muxTarget) accept() {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.smu.Lock()
		if t.sconns == nil { // closing
			t.smu.Unlock()
			nc.Close()
			return
		}
		t.sconns[nc] = true
		t.smu.Unlock()
		t.wg.Add(1)
		go t.serve(nc)
	}
}

// serve echoes the frames of one connection until it closes.
func (t *muxTarget) serve(nc net.Conn) {
	defer t.wg.Done()
	w := newMuxWriter(nc)
	t.wg.Add(1)
	go func() { defer t.wg.Done(); w.run() }()
	answer := func(id uint64, p []byte) error { return w.send(id, p) }
	if t.spawn {
		answer = func(id uint64, p []byte) error {
			p = append([]byte(nil), p...) // p is the read buffer's
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				_ = w.send(id, p) // fails only once the connection is gone
			}()
			return nil
		}
	}
	err := readMuxFrames(bufio.NewReaderSize(nc, muxServerRead), answer)
	w.stop(err)
	nc.Close()
}

// close closes both sides and waits for every goroutine of either to end.
func (t *muxTarget) close() {
	if t.cnc != nil {
		t.cnc.Close()
	}
	_ = t.ln.Close()
	t.smu.Lock()
	for nc := range t.sconns {
		nc.Close()
	}
	t.sconns = nil
	t.smu.Unlock()
	t.wg.Wait()
}
