package tcp

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// gateConn is a net.Conn whose first Write blocks until gate is closed, and
// which records what is written.
type gateConn struct {
	net.Conn // nil: only Write is used
	gate     chan struct{}
	mu       sync.Mutex
	writes   int
	data     bytes.Buffer
}

func (c *gateConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	first := c.writes == 0
	c.writes++
	c.mu.Unlock()
	if first {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data.Write(b)
	return len(b), nil
}

func (c *gateConn) result() (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, bytes.Clone(c.data.Bytes())
}

// queueFrame appends a cancel frame for id, as a sender does.
func queueFrame(t *testing.T, w *writer, id uint64) []byte {
	t.Helper()
	q, err := w.begin(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	start := len(q)
	q = beginFrame(q, kindCancel, id)
	endFrame(q, start, 1<<10)
	frame := bytes.Clone(q[start:])
	w.commit(q, true)
	return frame
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriterCoalesces proves that frames queued while a write is in
// progress go out in one write, in order.
func TestWriterCoalesces(t *testing.T) {
	gc := &gateConn{gate: make(chan struct{})}
	stopped := make(chan error, 1)
	w := newWriter(gc, 0, func(err error) { stopped <- err })
	go w.run()

	want := queueFrame(t, w, 1)
	waitFor(t, "the first write to start", func() bool { n, _ := gc.result(); return n == 1 })
	for id := uint64(2); id <= 100; id++ {
		want = append(want, queueFrame(t, w, id)...)
	}
	close(gc.gate)
	waitFor(t, "the queue to drain", func() bool {
		_, data := gc.result()
		return len(data) == len(want)
	})
	writes, data := gc.result()
	if !bytes.Equal(data, want) {
		t.Fatalf("written bytes differ from the frames queued, in order")
	}
	if writes != 2 {
		t.Fatalf("100 frames took %d writes, want 2: the first, then the 99 queued behind it", writes)
	}
	if ws, fs := w.stats(); ws != 2 || fs != 100 {
		t.Fatalf("stats = %d writes, %d frames; want 2, 100", ws, fs)
	}
	w.stop(errDrained)
	if err := <-stopped; err != errDrained {
		t.Fatalf("onStop(%v), want the stop error", err)
	}
}

// TestWriterBackpressure checks that senders wait while the queue is over
// highWater, and give up when told to.
func TestWriterBackpressure(t *testing.T) {
	gc := &gateConn{gate: make(chan struct{})}
	w := newWriter(gc, 0, func(error) {})
	go w.run()
	queueFrame(t, w, 1)
	waitFor(t, "the first write to start", func() bool { n, _ := gc.result(); return n == 1 })
	q, err := w.begin(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	w.commit(append(q, make([]byte, highWater)...), false)

	abort := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := w.begin(abort, false)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("begin returned (%v) with the queue over highWater", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(abort)
	if err := <-errc; err != errWaitAborted {
		t.Fatalf("aborted begin: %v, want errWaitAborted", err)
	}
	// A forced frame (a cancel) never waits.
	if q, err := w.begin(nil, true); err != nil {
		t.Fatal(err)
	} else {
		w.commit(q, false)
	}
	close(gc.gate)
	// Once the queue drains, senders get room again.
	if q, err := w.begin(nil, false); err != nil {
		t.Fatal(err)
	} else {
		w.commit(q, false)
	}
	w.stop(errors.New("done"))
	if _, err := w.begin(nil, false); err == nil || err.Error() != "done" {
		t.Fatalf("begin after stop: %v, want the stop error", err)
	}
}
