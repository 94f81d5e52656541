package tcp_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// Frame kinds and layout, as the package documentation gives them.
const (
	kindRequest  = 1
	kindResponse = 2
	kindCancel   = 3
)

func rawFrame(kind byte, id uint64, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0)
	b = append(b, kind)
	b = binary.AppendUvarint(b, id)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// readRawFrame reads one frame the server sent.
func readRawFrame(t *testing.T, r *bufio.Reader) (kind byte, id uint64, body []byte) {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	id, n := binary.Uvarint(b[1:])
	if n <= 0 {
		t.Fatalf("bad id in %x", b)
	}
	return b[0], id, b[1+n:]
}

// TestBadFramesCloseOnlyThatConnection sends broken frames on raw
// connections: each gets its connection closed, while a well-behaved client
// keeps its own connection and the server keeps serving.
func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	const maxFrame = 1 << 16
	f := start(t, []tcp.ServerOption{tcp.WithMaxFrame(maxFrame)}, nil)
	ctx := ctxFor(t, 30*time.Second)
	if err := echo(ctx, f.client, "before"); err != nil {
		t.Fatal(err)
	}
	oversized := binary.BigEndian.AppendUint32(nil, maxFrame+1)
	oversized = append(oversized, kindRequest, 1)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"oversized", oversized},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, kindRequest, 1}},
		{"too short", []byte{0, 0, 0, 1, kindRequest}},
		{"empty", []byte{0, 0, 0, 0}},
		{"unknown kind", rawFrame(9, 1, nil)},
		{"response from a client", rawFrame(kindResponse, 1, []byte{1, 0, 0, 0})},
		{"bad call id", []byte{0, 0, 0, 11, kindRequest, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
		{"cut short", append(binary.BigEndian.AppendUint32(nil, 100), kindRequest, 1, 1, 2, 3)},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := dialRaw(t, f.addr)
			if _, err := raw.Write(c.data); err != nil {
				t.Fatal(err)
			}
			if c.name == "cut short" {
				raw.(*net.TCPConn).CloseWrite()
			}
			n, err := raw.Read(make([]byte, 1))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server kept the connection open")
			}
			if err == nil {
				t.Fatalf("the server answered %d bytes instead of closing", n)
			}
			if err := echo(ctx, f.client, "after "+c.name); err != nil {
				t.Fatalf("well-behaved client: %v", err)
			}
		})
	}
	if n := f.ln.accepted.Load(); n != 10 {
		t.Fatalf("%d connections accepted, want 10: the client's own and one per bad frame", n)
	}
}

// TestMalformedEnvelope sends a well-framed request whose envelope does not
// parse: it is answered InvalidArgument, and the connection stays usable.
func TestMalformedEnvelope(t *testing.T) {
	f := start(t, nil, nil)
	raw := dialRaw(t, f.addr)
	r := bufio.NewReader(raw)
	good := rt.AppendRequest(nil, &rt.Request{Route: routeEcho, Payload: []byte(`{"A0":"hi"}`)})
	for _, frame := range [][]byte{
		rawFrame(kindRequest, 7, []byte{0xff, 1, 2}), // unknown envelope version
		rawFrame(kindCancel, 99, nil),                // cancel of a call never made: ignored
		rawFrame(kindRequest, 8, good),
	} {
		if _, err := raw.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	// Calls run concurrently: the answers may come in either order.
	answers := map[uint64]*rt.Response{}
	for range 2 {
		kind, id, body := readRawFrame(t, r)
		if kind != kindResponse {
			t.Fatalf("got a frame of kind %d, want a response", kind)
		}
		resp, err := rt.ParseResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		answers[id] = &resp
	}
	if resp := answers[7]; resp == nil || resp.Code != rt.InvalidArgument || !errors.Is(resp.Err(), rt.ErrMalformed) {
		t.Fatalf("malformed envelope answered %+v, want InvalidArgument matching ErrMalformed", resp)
	}
	if resp := answers[8]; resp == nil || resp.Code != rt.OK || string(resp.Payload) != `{"R0":"hi"}` {
		t.Fatalf("call after the malformed one answered %+v", resp)
	}
}
