package tcp

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// epoch is the origin of the monotonic nanoseconds that time limits are kept
// in: an int64 is cheaper to store and compare than a time.Time, and an
// atomic one can be shared with handlers.
var epoch = time.Now()

// mono returns the monotonic nanoseconds since epoch; never 0.
func mono() int64 { return int64(time.Since(epoch)) + 1 }

// at turns monotonic nanoseconds back into a time for a deadline.
func at(ns int64) time.Time { return epoch.Add(time.Duration(ns)) }

// errIdle ends the reading of a connection that stayed idle past the idle
// timeout; the connection then goes away gracefully.
var errIdle = errors.New("connection idle")

// readTimeouts enforces a [Server]'s time limits on the reads of one
// connection, with the connection's read deadline: no timer and no
// goroutine of its own, and, while frames keep arriving, no deadline to set
// either. It belongs to the connection's reader goroutine.
//
// The deadline it sets is never later than the first limit that can expire,
// but may be earlier: it is moved forward lazily, when it passes and the
// limit it stood for turns out not to have expired. A frame being read must
// arrive whole by frameStart+frame; between frames, with no call in flight,
// the connection must receive something by the later of its last read and
// its last call's end plus idle.
type readTimeouts struct {
	sc       *serverConn // its calls in flight and when the last one ended
	nc       net.Conn
	idle     time.Duration // 0: none
	frame    time.Duration // 0: none
	deadline int64         // the read deadline set on nc; 0 when none

	frameStart int64 // when the frame being read began; 0 between frames
	lastRecv   int64 // when the last read returned bytes
	armedFor   int64 // the frameStart the deadline was last chosen for
}

// newReadTimeouts starts the limits of a connection that is ready to read
// its first frame, which counts as begun now: a peer that connects and sends
// nothing is held to the frame timeout (to the idle one without it).
func newReadTimeouts(sc *serverConn, nc net.Conn, idle, frame time.Duration) *readTimeouts {
	t := &readTimeouts{sc: sc, nc: nc, idle: idle, frame: frame}
	if now := mono(); frame > 0 {
		t.frameStart = now
	} else {
		t.lastRecv = now
	}
	t.armedFor = -1 // nothing chosen yet
	return t
}

// want returns the deadline the limits call for, given whether calls are in
// flight; 0 for none.
func (t *readTimeouts) want(now int64, busy bool) int64 {
	switch {
	case t.frameStart != 0:
		if t.frame > 0 {
			return t.frameStart + int64(t.frame)
		}
	case t.idle > 0:
		if busy {
			return now + int64(t.idle)
		}
		return max(t.lastRecv, t.sc.lastCallEnd.Load()) + int64(t.idle)
	}
	return 0
}

// arm runs before every read. When the reader has begun or finished a frame
// since the deadline was set, it brings the deadline forward if the new
// state's limit may expire before it. Between frames it counts from the last
// read, no later than the true expiry, so that it needs no clock.
func (t *readTimeouts) arm() {
	if t.frameStart == t.armedFor {
		return
	}
	t.armedFor = t.frameStart
	var want int64
	switch {
	case t.frameStart != 0:
		if t.frame > 0 {
			want = t.frameStart + int64(t.frame)
		}
	case t.idle > 0:
		want = t.lastRecv + int64(t.idle)
	}
	if want != 0 && (t.deadline == 0 || want < t.deadline) {
		t.set(want)
	}
}

// received runs after every read that returned bytes: the first of them
// begin a frame if none was being read.
func (t *readTimeouts) received() {
	t.lastRecv = mono()
	if t.frameStart == 0 {
		t.frameStart = t.lastRecv
	}
}

// frameDone runs when a frame has been read whole; more says that bytes of
// the next one are buffered already, and so arrived by the last read.
func (t *readTimeouts) frameDone(more bool) {
	if more {
		t.frameStart = t.lastRecv
	} else {
		t.frameStart = 0
	}
}

// resumed runs when the reader comes back after waiting for room to answer
// (see [serverConn.readLoop]): a frame it had begun gets a fresh frame
// timeout, since the peer was not the one that was slow.
func (t *readTimeouts) resumed() {
	if t.frameStart != 0 {
		t.frameStart = mono()
	}
}

// expired runs when a read failed with err. For a deadline that passed it
// reports whether a limit really expired: then the error to close the
// connection with, else nil after moving the deadline to the next one.
func (t *readTimeouts) expired(err error) error {
	if !isTimeout(err) {
		return err
	}
	now := mono()
	busy := t.sc.inflight.Load() > 0
	want := t.want(now, busy)
	if want != 0 && now >= want {
		if t.frameStart != 0 {
			return fmt.Errorf("frame not received whole within %v", t.frame)
		}
		return errIdle
	}
	t.armedFor = t.frameStart
	t.set(want)
	return nil
}

func (t *readTimeouts) set(deadline int64) {
	t.deadline = deadline
	if deadline == 0 {
		t.nc.SetReadDeadline(time.Time{})
		return
	}
	t.nc.SetReadDeadline(at(deadline))
}
