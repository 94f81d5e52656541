package tcp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Frame kinds; see the package documentation.
const (
	kindRequest  byte = 1
	kindResponse byte = 2
	kindCancel   byte = 3
)

const (
	lengthSize = 4 // the length prefix of every frame
	// maxFrameLimit keeps frame lengths inside both the uint32 prefix and
	// an int on 32-bit machines.
	maxFrameLimit = math.MaxInt32
	// readBufferSize is the read buffer of a connection. Frames that fit in
	// it are parsed in place; larger ones get a buffer of their own.
	readBufferSize = 64 << 10
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

// frameReader reads frames from a connection through one buffer.
type frameReader struct {
	br      *bufio.Reader
	max     int
	discard int // bytes of the last frame, still in br
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, readBufferSize), max: max}
}

// next returns the next frame. An error means the connection cannot be used
// any more: the peer closed it, or sent a frame that breaks the framing.
func (r *frameReader) next() (frame, error) {
	if r.discard > 0 {
		r.br.Discard(r.discard) // cannot fail: the bytes are buffered
		r.discard = 0
	}
	hdr, err := r.br.Peek(lengthSize)
	if err != nil {
		return frame{}, unexpectedEOF(err, len(hdr))
	}
	n := binary.BigEndian.Uint32(hdr)
	if uint64(n) > uint64(r.max) {
		return frame{}, fmt.Errorf("frame of %d bytes exceeds the limit of %d", n, r.max)
	}
	if n < 2 {
		return frame{}, fmt.Errorf("%w: %d bytes is too short", errMalformedFrame, n)
	}
	var b []byte
	owned := false
	if total := lengthSize + int(n); total <= r.br.Size() {
		b, err = r.br.Peek(total)
		if err != nil {
			return frame{}, unexpectedEOF(err, 1)
		}
		b = b[lengthSize:]
		r.discard = total
	} else {
		r.br.Discard(lengthSize)
		b = make([]byte, n)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return frame{}, unexpectedEOF(err, 1)
		}
		owned = true
	}
	id, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return frame{}, fmt.Errorf("%w: bad call id", errMalformedFrame)
	}
	return frame{kind: b[0], id: id, body: b[1+k:], owned: owned}, nil
}

// unexpectedEOF reports an EOF after some bytes of a frame as a frame cut
// short; a clean EOF between frames stays io.EOF.
func unexpectedEOF(err error, got int) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}
