package tcp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
)

// fuzzMaxFrame is the frame limit under fuzzing: larger than the server's
// read buffer, so that both ways of reading a frame are reached.
const fuzzMaxFrame = serverReadBuffer + 1<<10

// frameSeeds are inputs for the fuzz targets: valid frames, frames cut
// short, and lengths at and over the limit.
func frameSeeds() [][]byte {
	frame := func(kind byte, id uint64, body []byte) []byte {
		b := beginFrame(nil, kind, id)
		b = append(b, body...)
		endFrame(b, 0, maxFrameLimit)
		return b
	}
	req := rt.AppendRequest(nil, &rt.Request{Route: "fuzz.svc.echo", Timeout: time.Second, Metadata: rt.Metadata{"k": "v"}.Encode(), Payload: []byte(`{"A0":"hi"}`)})
	request := frame(kindRequest, 1, req)
	cancel := frame(kindCancel, 1, nil)
	large := frame(kindRequest, 2, rt.AppendRequest(nil, &rt.Request{Route: "fuzz.svc.echo", Payload: fmt.Appendf(nil, `{"A0":%q}`, strings.Repeat("x", serverReadBuffer+200))}))
	length := func(n uint32, rest ...byte) []byte { return append(binary.BigEndian.AppendUint32(nil, n), rest...) }
	return [][]byte{
		request,
		cancel,
		append(append(bytes.Clone(request), cancel...), request...),
		request[:len(request)/2],
		request[:3],
		large,
		large[:len(large)-1],
		frame(kindResponse, 1, rt.AppendResponse(nil, &rt.Response{Payload: []byte(`{}`)})),
		frame(kindGoAway, 0, nil),
		frame(9, 1, nil),
		length(0xffffffff, kindRequest, 1),
		length(fuzzMaxFrame+1, kindRequest, 1),
		length(fuzzMaxFrame, kindRequest, 1, 2, 3),
		length(0),
		length(1, kindRequest),
		length(11, kindRequest, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80),
		frame(kindRequest, 3, []byte{0xff, 1, 2}),
	}
}

// decoded is what a frame reader made of some bytes: the frames, copied,
// and the error that ended the reading, by class.
type decoded struct {
	frames []frame
	end    string
}

// decodeAll reads frames from r until an error, checking on the way what
// must hold of every frame whatever the input.
func decodeAll(t *testing.T, r io.Reader) decoded {
	fr := newFrameReader(r, fuzzMaxFrame, serverReadBuffer)
	var d decoded
	for {
		f, err := fr.next()
		if cap(fr.buf) > serverReadBuffer {
			t.Fatalf("read buffer grew to %d bytes", cap(fr.buf))
		}
		if err != nil {
			d.end = errorClass(t, err)
			return d
		}
		if len(f.body) > fuzzMaxFrame || (f.owned && cap(f.body) > fuzzMaxFrame) {
			t.Fatalf("a frame body of %d bytes (capacity %d) passed the limit of %d", len(f.body), cap(f.body), fuzzMaxFrame)
		}
		if f.kind == kindRequest {
			rt.ParseRequest(f.body) // must not panic; may fail
		}
		f.body = bytes.Clone(f.body)
		d.frames = append(d.frames, f)
	}
}

func errorClass(t *testing.T, err error) string {
	switch {
	case err == io.EOF:
		return "end"
	case err == io.ErrUnexpectedEOF:
		return "cut short"
	case errors.Is(err, errMalformedFrame):
		return "malformed"
	case strings.Contains(err.Error(), "exceeds the limit"):
		return "over the limit"
	}
	t.Fatalf("unexpected error %v", err)
	return ""
}

// FuzzFrameDecoder feeds arbitrary bytes to the frame reader a server
// connection uses. It must never panic, never hand out a frame over the
// limit nor grow its buffer, re-encode every frame it accepts to exactly the
// bytes it consumed, and reach the same frames and the same end whether the
// bytes arrive at once, one at a time or in halves.
func FuzzFrameDecoder(f *testing.F) {
	for _, seed := range frameSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Past a few frames more bytes find nothing new, and make each
		// run, and so the minimizing of what the fuzzer finds, slow.
		data = data[:min(len(data), 3*fuzzMaxFrame)]
		whole := decodeAll(t, bytes.NewReader(data))
		var enc []byte
		for _, fr := range whole.frames {
			start := len(enc)
			enc = append(beginFrame(enc, fr.kind, fr.id), fr.body...)
			if _, ok := endFrame(enc, start, fuzzMaxFrame); !ok {
				t.Fatalf("accepted a frame that does not re-encode within the limit")
			}
		}
		if !bytes.HasPrefix(data, enc) {
			// Only an id encoded with more bytes than it needs may
			// differ, and those are accepted: compare the frames.
			again := decodeAll(t, bytes.NewReader(enc))
			if !sameFrames(again.frames, whole.frames) {
				t.Fatalf("frames do not survive re-encoding")
			}
		}
		dribble := iotest.OneByteReader(bytes.NewReader(data))
		if len(data) > 512 {
			// As searching, but cheaper on long inputs, which the
			// fuzzer minimizes by running them many times.
			dribble = &chunkReader{data: data}
		}
		for name, r := range map[string]io.Reader{
			"in small pieces": dribble,
			"in halves":       iotest.HalfReader(bytes.NewReader(data)),
		} {
			got := decodeAll(t, r)
			if got.end != whole.end || !sameFrames(got.frames, whole.frames) {
				t.Fatalf("read %s: %d frames and %s; at once: %d frames and %s", name, len(got.frames), got.end, len(whole.frames), whole.end)
			}
		}
	})
}

// chunkReader reads data in pieces of 1 to 13 bytes.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.n++
	n := copy(p[:min(len(p), 1+r.n%13)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func sameFrames(a, b []frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind != b[i].kind || a[i].id != b[i].id || !bytes.Equal(a[i].body, b[i].body) {
			return false
		}
	}
	return true
}

// TestFrameReaderAllocatesWhatArrives announces the largest frame and sends
// a few bytes of it: the reader allocates about what arrived, not the
// announced size.
func TestFrameReaderAllocatesWhatArrives(t *testing.T) {
	const max, sent = 64 << 20, 1000
	data := append(binary.BigEndian.AppendUint32(nil, max), kindRequest, 1)
	data = append(data, make([]byte, sent)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fr := newFrameReader(bytes.NewReader(data), max, serverReadBuffer)
	_, err := fr.next()
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("next() = %v, want ErrUnexpectedEOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Fatalf("reading %d bytes of a frame announced as %d allocated %d bytes", sent, max, n)
	}
}

// fuzzServer is a Server on pipes, with an echo route, for FuzzServerConn.
type fuzzServer struct {
	s    *Server
	good net.Conn // a well-behaved client's connection
	r    *bufio.Reader
	id   uint64
}

type fuzzEcho struct{ A0 string }

func newFuzzServer(tb testing.TB) *fuzzServer {
	d := rt.NewServer(rt.WithLogger(slog.New(slog.DiscardHandler)))
	d.RegisterService(&rt.ServiceDesc{Name: "fuzz.svc", Methods: []rt.MethodDesc{
		{Route: "fuzz.svc.echo", NewArgs: func() any { return new(fuzzEcho) }, NewResult: func() any { return new(fuzzEcho) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				*result.(*fuzzEcho) = *args.(*fuzzEcho)
				return nil
			}},
	}}, nil)
	s := NewServer(d, WithLogger(slog.New(slog.DiscardHandler)), WithMaxFrame(fuzzMaxFrame), WithFrameTimeout(time.Second))
	fs := &fuzzServer{s: s, good: pipeTo(s)}
	fs.r = bufio.NewReader(fs.good)
	tb.Cleanup(func() {
		fs.good.Close()
		s.Close()
	})
	return fs
}

// pipeTo connects a pipe to s.
func pipeTo(s *Server) net.Conn {
	client, server := net.Pipe()
	s.serveConn(server)
	return client
}

// call makes an echo call on the well-behaved connection.
func (fs *fuzzServer) call() error {
	fs.id++
	b := beginFrame(nil, kindRequest, fs.id)
	b = rt.AppendRequest(b, &rt.Request{Route: "fuzz.svc.echo", Payload: []byte(`{"A0":"ok"}`)})
	endFrame(b, 0, fuzzMaxFrame)
	fs.good.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fs.good.Write(b); err != nil {
		return err
	}
	fr := newFrameReader(fs.r, fuzzMaxFrame, clientReadBuffer)
	f, err := fr.next()
	if err != nil {
		return err
	}
	if f.kind != kindResponse || f.id != fs.id {
		return fmt.Errorf("answer of kind %d for call %d, want a response to %d", f.kind, f.id, fs.id)
	}
	resp, err := rt.ParseResponse(f.body)
	if err != nil {
		return err
	}
	if resp.Code != rt.OK || string(resp.Payload) != `{"A0":"ok"}` {
		return fmt.Errorf("answer %+v", resp)
	}
	return nil
}

// FuzzServerConn writes arbitrary bytes into a live server connection: the
// server answers with well-formed frames only, or closes the connection,
// and a well-behaved client's connection to the same server keeps working.
func FuzzServerConn(f *testing.F) {
	for _, seed := range frameSeeds() {
		f.Add(seed)
	}
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := pipeTo(fs.s)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		answers := make(chan error, 1)
		go func() {
			// The server may answer requests, and must send nothing else
			// but a well-formed response or go-away frame.
			fr := newFrameReader(c, fuzzMaxFrame, clientReadBuffer)
			for {
				f, err := fr.next()
				if err != nil {
					answers <- nil
					return
				}
				switch f.kind {
				case kindResponse:
					if _, err := rt.ParseResponse(f.body); err != nil {
						answers <- fmt.Errorf("malformed answer: %v", err)
						return
					}
				case kindGoAway:
				default:
					answers <- fmt.Errorf("the server sent a frame of kind %d", f.kind)
					return
				}
			}
		}()
		c.Write(data) // fails once the server closes
		c.Close()
		if err := <-answers; err != nil {
			t.Fatal(err)
		}
		if err := fs.call(); err != nil {
			t.Fatalf("well-behaved client: %v", err)
		}
	})
}

// TestFrameReaderLargeFrames reads frames around and far past the buffer
// size, in one piece and in small ones: each arrives whole and intact, the
// large ones in slices of their own that grew as they arrived.
func TestFrameReaderLargeFrames(t *testing.T) {
	var data []byte
	var want [][]byte
	for i, n := range []int{10, serverReadBuffer - 6, serverReadBuffer - 5, 20000, 10, 1 << 20, 3} {
		body := bytes.Repeat([]byte{byte(i + 1)}, n)
		start := len(data)
		data = append(beginFrame(data, kindRequest, uint64(i)), body...)
		endFrame(data, start, maxFrameLimit)
		want = append(want, body)
	}
	for name, r := range map[string]io.Reader{
		"at once":         bytes.NewReader(data),
		"in small pieces": &chunkReader{data: data},
	} {
		fr := newFrameReader(r, 2<<20, serverReadBuffer)
		for i, body := range want {
			f, err := fr.next()
			if err != nil {
				t.Fatalf("%s: frame %d: %v", name, i, err)
			}
			if f.id != uint64(i) || !bytes.Equal(f.body, body) {
				t.Fatalf("%s: frame %d came back as id %d with %d bytes", name, i, f.id, len(f.body))
			}
			if large := 1+1+len(body)+lengthSize > serverReadBuffer; f.owned != large {
				t.Fatalf("%s: frame %d of %d bytes: owned = %v", name, i, len(body), f.owned)
			}
		}
		if _, err := fr.next(); err != io.EOF {
			t.Fatalf("%s: after the last frame: %v", name, err)
		}
	}
}
