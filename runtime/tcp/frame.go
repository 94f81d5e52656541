package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Frame kinds; see the package documentation.
const (
	kindRequest  byte = 1
	kindResponse byte = 2
	kindCancel   byte = 3
	kindGoAway   byte = 4
	kindHello    byte = 5 // client: the server id and incarnation the connection is meant for
	kindRefused  byte = 6 // server: not that server; nothing sent on the connection was served
)

const (
	lengthSize = 4 // the length prefix of every frame
	// maxFrameLimit keeps frame lengths inside both the uint32 prefix and
	// an int on 32-bit machines.
	maxFrameLimit = math.MaxInt32
	// serverReadBuffer and clientReadBuffer size the read buffer of a
	// connection; frames that fit in it are parsed in place, larger ones get
	// a slice of their own. A server holds one per client and keeps it
	// small; a Transport holds one per server and reads answers, which are
	// often larger, so it reads more at once.
	serverReadBuffer = 4 << 10
	clientReadBuffer = 64 << 10
)

var errMalformedFrame = errors.New("malformed frame")

// beginFrame appends the header of a frame to buf, with a length to be
// filled in by [endFrame]. The frame starts at the len(buf) it was given.
func beginFrame(buf []byte, kind byte, id uint64) []byte {
	buf = append(buf, 0, 0, 0, 0, kind)
	return binary.AppendUvarint(buf, id)
}

// endFrame fills in the length of the frame that starts at start and runs to
// the end of buf. It reports false, leaving buf as it is, when the frame is
// longer than max.
func endFrame(buf []byte, start, max int) (int, bool) {
	n := len(buf) - start - lengthSize
	if n > max {
		return n, false
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(n))
	return n, true
}

// frame is one frame read off a connection.
type frame struct {
	kind byte
	id   uint64
	// body aliases the connection's read buffer until the next frame is
	// read, unless owned: then it is a fresh slice the receiver may keep.
	body  []byte
	owned bool
}

// frameReader reads frames from a connection through a buffer of its own.
//
// The buffer is allocated at the first read and stays small, since a server
// has one per connection, most of them idle. A frame that fits in it is
// parsed in place; a larger one is read into a slice of its own, handed to
// the receiver, and that slice grows as the frame's bytes arrive, never
// ahead of them: a peer that announces a frame of the largest size and sends
// a few bytes makes the reader allocate a few bytes, not the limit.
type frameReader struct {
	rd   io.Reader
	max  int
	size int    // of buf, once allocated
	buf  []byte // nil until the first read
	r, w int    // buf[r:w] holds bytes read and not yet consumed
	// t enforces a server's time limits on reads; nil on a client.
	t *readTimeouts
	// partial, on a server, is charged with the memory of large frames
	// while they arrive; a reader that finds no room waits, counted in
	// paused, until the frame's deadline or until stop is closed.
	partial *runtime.Budget
	stop    <-chan struct{}
	paused  *atomic.Int64
}

// largeFrameGrowth bounds the doubling of a large frame's buffer: past it,
// the buffer takes the frame's size at once, so that the copies of the
// doubling cost less than this in all.
const largeFrameGrowth = 64 << 10

// maxEmptyReads is how many reads that return no bytes and no error the
// reader tolerates in a row, as bufio does.
const maxEmptyReads = 100

func newFrameReader(r io.Reader, max, size int) *frameReader {
	return &frameReader{rd: r, max: max, size: size}
}

// next returns the next frame. An error means the connection cannot be used
// any more: the peer closed it, broke the framing or ran out of time.
func (r *frameReader) next() (frame, error) {
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	for r.w-r.r < lengthSize {
		if err := r.fill(lengthSize); err != nil {
			return frame{}, unexpectedEOF(err, r.w-r.r)
		}
	}
	n := binary.BigEndian.Uint32(r.buf[r.r:])
	if uint64(n) > uint64(r.max) {
		return frame{}, fmt.Errorf("frame of %d bytes exceeds the limit of %d", n, r.max)
	}
	if n < 2 {
		return frame{}, fmt.Errorf("%w: %d bytes is too short", errMalformedFrame, n)
	}
	var b []byte
	owned := false
	if total := lengthSize + int(n); total <= r.size {
		for r.w-r.r < total {
			if err := r.fill(total); err != nil {
				return frame{}, unexpectedEOF(err, 1)
			}
		}
		b = r.buf[r.r+lengthSize : r.r+total]
		r.r += total
	} else {
		var err error
		if b, err = r.readLarge(int(n)); err != nil {
			return frame{}, err
		}
		owned = true
	}
	if r.t != nil {
		r.t.frameDone(r.r < r.w)
	}
	id, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return frame{}, fmt.Errorf("%w: bad call id", errMalformedFrame)
	}
	return frame{kind: b[0], id: id, body: b[1+k:], owned: owned}, nil
}

// fill reads at least one byte more into the buffer, first making room for a
// frame of need bytes from r.r on. need is at most r.size.
func (r *frameReader) fill(need int) error {
	if r.buf == nil {
		r.buf = make([]byte, r.size)
	}
	if r.r+need > len(r.buf) {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	n, err := r.read(r.buf[r.w:])
	r.w += n
	return err
}

// readLarge reads the body of a frame of n bytes, larger than the buffer,
// whose length prefix is buffered, into a slice of its own. The slice
// doubles as bytes arrive up to largeFrameGrowth, then is replaced by one of
// the frame's whole size: a peer that announces a large frame and stalls
// holds about what it sent until then, and a whole frame costs its size and
// less than largeFrameGrowth more. What the slice holds is charged to the
// server's partial-frame budget.
func (r *frameReader) readLarge(n int) (_ []byte, err error) {
	got := r.buf[r.r+lengthSize : r.w]
	size := min(n, max(2*len(got), serverReadBuffer))
	held := 0 // charged to r.partial
	defer func() { r.partial.Release(held) }()
	if err := r.reserve(size, &held); err != nil {
		return nil, err
	}
	b := make([]byte, len(got), size)
	copy(b, got)
	r.r, r.w = 0, 0
	for len(b) < n {
		if len(b) == cap(b) {
			size := n
			if 2*cap(b) < largeFrameGrowth {
				size = min(n, 2*cap(b))
			}
			if err := r.reserve(size, &held); err != nil {
				return nil, err
			}
			nb := make([]byte, len(b), size)
			copy(nb, b)
			b = nb
		}
		m, err := r.read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			return nil, unexpectedEOF(err, 1)
		}
	}
	return b, nil
}

// errPartialBudget ends a connection whose frame found no room in the
// server's partial-frame budget before its deadline.
var errPartialBudget = errors.New("no room for the frame in the server's budget of frames being received")

// reserve charges r.partial so that held bytes become size, waiting for
// room until the frame's deadline.
func (r *frameReader) reserve(size int, held *int) error {
	if r.partial == nil || size <= *held {
		return nil
	}
	more := size - *held
	if !r.partial.TryAcquire(more) {
		var deadline time.Time
		if r.t != nil && r.t.frame > 0 && r.t.frameStart != 0 {
			deadline = at(r.t.frameStart + int64(r.t.frame))
		}
		r.paused.Add(1)
		ok := r.partial.AcquireWait(more, deadline, r.stop)
		r.paused.Add(-1)
		if !ok {
			return errPartialBudget
		}
	}
	*held = size
	return nil
}

// read reads into p once some bytes arrive, applying the time limits, if
// any. It returns either some bytes or an error.
func (r *frameReader) read(p []byte) (int, error) {
	for empty := 0; ; {
		if r.t != nil {
			r.t.arm()
		}
		n, err := r.rd.Read(p)
		if n > 0 {
			if r.t != nil {
				r.t.received()
			}
			return n, nil
		}
		if err != nil {
			if r.t == nil {
				return 0, err
			}
			if err = r.t.expired(err); err != nil {
				return 0, err
			}
			continue
		}
		if empty++; empty >= maxEmptyReads {
			return 0, io.ErrNoProgress
		}
	}
}

// drain reads and drops whatever the peer sends until it closes the
// connection or an error, such as a deadline, ends the reading.
func (r *frameReader) drain() error {
	if r.buf == nil {
		r.buf = make([]byte, r.size)
	}
	r.r, r.w = 0, 0
	for {
		if _, err := r.rd.Read(r.buf); err != nil {
			return err
		}
	}
}

// unexpectedEOF reports an EOF after some bytes of a frame as a frame cut
// short; a clean EOF between frames stays io.EOF.
func unexpectedEOF(err error, got int) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendHello appends the body of a hello frame: the server id and the
// incarnation, each length-prefixed with a uvarint.
func appendHello(buf []byte, serverID, incarnation string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(serverID)))
	buf = append(buf, serverID...)
	buf = binary.AppendUvarint(buf, uint64(len(incarnation)))
	return append(buf, incarnation...)
}

// parseHello reads the body of a hello frame.
func parseHello(body []byte) (serverID, incarnation string, err error) {
	field := func() string {
		n, k := binary.Uvarint(body)
		if k <= 0 || n > uint64(len(body)-k) || n > 1<<10 {
			err = fmt.Errorf("%w: bad hello", errMalformedFrame)
			return ""
		}
		s := string(body[k : k+int(n)])
		body = body[k+int(n):]
		return s
	}
	serverID = field()
	if err == nil {
		incarnation = field()
	}
	if err == nil && len(body) != 0 {
		err = fmt.Errorf("%w: bad hello", errMalformedFrame)
	}
	return serverID, incarnation, err
}
