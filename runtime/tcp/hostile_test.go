package tcp_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// The tests in this file attack a server the way a hostile or broken peer
// would, each while a well-behaved client keeps calling the same server: the
// server must stay up, hold bounded memory, close the attacker's connection
// when the attack calls for it, and answer every call of the well-behaved
// client throughout.

// goodClient calls a server in the background, as a well-behaved client
// does during an attack.
type goodClient struct {
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	calls int     // read after done
	errs  []error // read after done
}

func startGoodClient(t *testing.T, c *rt.Client) *goodClient {
	g := &goodClient{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(g.done)
		for i := 0; ; i++ {
			select {
			case <-g.stop:
				return
			default:
			}
			// Generous: the machine may be loaded; what counts is that
			// every call succeeds.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := echo(ctx, c, fmt.Sprint("good ", i))
			cancel()
			if err != nil {
				g.errs = append(g.errs, err)
			} else {
				g.calls++
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	t.Cleanup(g.halt)
	return g
}

func (g *goodClient) halt() {
	g.once.Do(func() { close(g.stop) })
	<-g.done
}

// check stops the client and fails the test unless every call succeeded.
func (g *goodClient) check(t *testing.T) {
	t.Helper()
	g.halt()
	for _, err := range g.errs[:min(len(g.errs), 5)] {
		t.Errorf("well-behaved client: %v", err)
	}
	if len(g.errs) > 0 {
		t.Fatalf("%d of the well-behaved client's %d calls failed", len(g.errs), len(g.errs)+g.calls)
	}
	if g.calls == 0 {
		t.Fatal("the well-behaved client made no call")
	}
	t.Logf("well-behaved client: %d calls during the attack, all answered", g.calls)
}

// liveBytes returns the live heap and the goroutine stacks after a
// collection: what the process holds.
func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

const mib = 1 << 20

// waitClosed reads and drops what the server sends on c until the server
// closes it, and returns how long that took. It fails the test when c is
// still open after within.
func waitClosed(t *testing.T, c net.Conn, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(within))
	buf := make([]byte, 4<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("the server kept the connection open for %v", within)
			}
			return time.Since(start)
		}
	}
}

// echoRequest is a request frame for an echo call with id.
func echoRequest(id uint64, msg string) []byte {
	return rawFrame(kindRequest, id, rt.AppendRequest(nil, &rt.Request{Route: routeEcho, Payload: fmt.Appendf(nil, `{"A0":%q}`, msg)}))
}

// callRaw sends an echo call on c and reads its answer.
func callRaw(c net.Conn, r *bufio.Reader, id uint64) error {
	if _, err := c.Write(echoRequest(id, "raw")); err != nil {
		return err
	}
	kind, gotID, body, err := readFrame(r)
	if err != nil {
		return err
	}
	if kind != kindResponse || gotID != id {
		return fmt.Errorf("got a frame of kind %d for call %d, want the answer to %d", kind, gotID, id)
	}
	resp, err := rt.ParseResponse(body)
	if err != nil {
		return err
	}
	return resp.Err()
}

// readFrame reads one frame, as readRawFrame does, returning errors.
func readFrame(r *bufio.Reader) (kind byte, id uint64, body []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, 0, nil, err
	}
	id, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return 0, 0, nil, fmt.Errorf("bad id in %x", b)
	}
	return b[0], id, b[1+n:], nil
}

// TestHostileGarbage sends random bytes on many connections at once: the
// server closes each, because the bytes break the framing, or leave a frame
// unfinished past the frame timeout, or go quiet past the idle timeout.
func TestHostileGarbage(t *testing.T) {
	const frameTimeout, idleTimeout = 300 * time.Millisecond, 500 * time.Millisecond
	f := start(t, []tcp.ServerOption{tcp.WithMaxFrame(64 << 10), tcp.WithFrameTimeout(frameTimeout), tcp.WithIdleTimeout(idleTimeout)}, nil)
	g := startGoodClient(t, f.client)
	rnd := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fastest, slowest time.Duration
	for i := range 40 {
		data := make([]byte, 1+rnd.IntN(8<<10))
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		switch i % 4 {
		case 0: // a length under the limit, likely more than is sent
			data = append([]byte{0, 0}, data...)
		case 1: // a well-framed request whose envelope is garbage
			data = rawFrame(kindRequest, uint64(i), data)
		case 2: // a length over the limit
			data = append([]byte{0}, data...)
		}
		raw := dialRaw(t, f.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw.Write(data) // may fail: the server may have closed already
			d := waitClosed(t, raw, 3*time.Second)
			raw.Close() // a server that closed as idle waits for it
			mu.Lock()
			defer mu.Unlock()
			if fastest == 0 || d < fastest {
				fastest = d
			}
			slowest = max(slowest, d)
		}()
	}
	wg.Wait()
	g.check(t)
	t.Logf("40 connections of garbage: all closed, after %v to %v", fastest.Round(time.Millisecond), slowest.Round(time.Millisecond))
	waitUntil(t, "the server to drop the garbage connections", func() bool { return f.srv.NumConns() <= 1 })
}

// TestHostileHugeLengths announces frames over the limit, and frames of the
// largest size the limit allows that never come: the first are closed at
// once, the second after the frame timeout, and neither makes the server
// allocate what was announced.
func TestHostileHugeLengths(t *testing.T) {
	const frameTimeout = 500 * time.Millisecond
	const maxFrame = rt.DefaultMaxPayload + 1<<20 // the default limit
	f := start(t, []tcp.ServerOption{tcp.WithFrameTimeout(frameTimeout)}, nil)
	g := startGoodClient(t, f.client)

	for _, c := range []struct {
		name   string
		length uint32
	}{
		{"4 GiB", 0xffffffff},
		{"limit+1", maxFrame + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 50
			before := liveBytes()
			conns := make([]net.Conn, n)
			for i := range conns {
				conns[i] = dialRaw(t, f.addr)
				msg := binary.BigEndian.AppendUint32(nil, c.length)
				if _, err := conns[i].Write(append(msg, kindRequest, 1, 1, 2, 3)); err != nil {
					t.Fatal(err)
				}
			}
			var slowest time.Duration
			for _, raw := range conns {
				slowest = max(slowest, waitClosed(t, raw, 3*time.Second))
			}
			grew := liveBytes() - before
			t.Logf("%d connections announcing %d bytes: closed within %v; memory grew %d KiB", n, c.length, slowest.Round(time.Millisecond), grew>>10)
			if slowest >= frameTimeout {
				t.Errorf("closing took %v: the limit should close at once, not the frame timeout", slowest)
			}
			if grew > 8*mib {
				t.Errorf("memory grew %d MiB", grew/mib)
			}
		})
	}

	t.Run("limit, never sent", func(t *testing.T) {
		const n, sent = 50, 10 << 10
		before := liveBytes()
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = dialRaw(t, f.addr)
			msg := binary.BigEndian.AppendUint32(nil, maxFrame)
			msg = append(msg, kindRequest, 1)
			msg = append(msg, make([]byte, sent)...)
			if _, err := conns[i].Write(msg); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(frameTimeout / 2) // the server has read what was sent
		grew := liveBytes() - before
		for _, raw := range conns {
			waitClosed(t, raw, frameTimeout+2*time.Second)
		}
		t.Logf("%d connections announcing %d bytes and sending %d: memory grew %d KiB (%d KiB each) until the frame timeout closed them",
			n, maxFrame, sent, grew>>10, grew/n>>10)
		if grew > n*4*sent+4*mib {
			t.Errorf("memory grew %d MiB: the server allocates what is announced, not what arrives", grew/mib)
		}
	})
	g.check(t)
}

// TestHostileSlowloris holds frames open: each connection is closed once its
// frame has taken the frame timeout, however it dribbles.
func TestHostileSlowloris(t *testing.T) {
	const frameTimeout = 300 * time.Millisecond
	pki := newPKI(t)
	f := start(t, []tcp.ServerOption{tcp.WithFrameTimeout(frameTimeout)}, nil)
	tlsF := start(t, []tcp.ServerOption{tcp.WithTLS(pki.serverConfig()), tcp.WithDialTimeout(frameTimeout)}, nil)
	g := startGoodClient(t, f.client)
	frame := echoRequest(1, string(make([]byte, 1000)))

	for _, c := range []struct {
		name string
		addr string
		// attack runs on the connection, dialled at dialled, and returns
		// when the frame timeout starts counting: for the first frame,
		// when the connection was accepted, so no later than dialled.
		attack func(t *testing.T, c net.Conn, dialled time.Time) time.Time
	}{
		{"half a frame", f.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			c.Write(frame[:len(frame)/2])
			return dialled
		}},
		{"a byte at a time", f.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			go func() {
				for i := range frame {
					if _, err := c.Write(frame[i : i+1]); err != nil {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			return dialled
		}},
		{"nothing at all", f.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			return dialled
		}},
		{"half a frame after a call", f.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			if err := callRaw(c, bufio.NewReader(c), 7); err != nil {
				t.Fatal(err)
			}
			time.Sleep(frameTimeout / 2) // a quiet while between frames is fine
			begin := time.Now()
			c.Write(frame[:len(frame)/2])
			return begin
		}},
		{"TLS handshake never started", tlsF.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			return dialled
		}},
		{"TLS handshake half sent", tlsF.addr, func(t *testing.T, c net.Conn, dialled time.Time) time.Time {
			c.Write([]byte{22, 3, 1, 0, 200, 1}) // a handshake record of 200 bytes, 1 sent
			return dialled
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dialled := time.Now()
			raw := dialRaw(t, c.addr)
			begin := c.attack(t, raw, dialled)
			waitClosed(t, raw, 3*frameTimeout+20*time.Second)
			d := time.Since(begin)
			t.Logf("closed %v after the frame began (frame timeout %v)", d.Round(time.Millisecond), frameTimeout)
			// Not before the timeout; after it, within room for a loaded
			// machine.
			if d < frameTimeout || d > 3*frameTimeout+10*time.Second {
				t.Errorf("closed after %v, want about %v", d, frameTimeout)
			}
		})
	}
	g.check(t)
	if n := tlsF.svc.calls.Load(); n != 0 {
		t.Fatalf("%d calls reached the TLS server's handlers", n)
	}
}

// TestHostileFlood sends far more calls on one connection than it may run
// at once, to a handler that blocks: the server runs a bounded number, keeps
// the next ones waiting within the connection's budget and answers the rest
// ResourceExhausted at once, without decoding them; its goroutines and
// memory stay bounded. When the connection closes, the running calls are
// cancelled and the waiting ones never start.
func TestHostileFlood(t *testing.T) {
	const concurrent, calls, budget = 32, 20000, 256 << 10
	f := start(t, []tcp.ServerOption{tcp.WithMaxConcurrentCalls(concurrent), tcp.WithConnBudget(budget)}, nil)
	g := startGoodClient(t, f.client)
	time.Sleep(20 * time.Millisecond) // the good client's connection is up
	goroutines, before := runtime.NumGoroutine(), liveBytes()

	raw := dialRaw(t, f.addr)
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	body := rt.AppendRequest(nil, &rt.Request{Route: routeBlock, Payload: []byte(`{}`)})
	var refused atomic.Int64
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReader(raw)
		for {
			kind, _, body, err := readFrame(r)
			if err == nil && kind != kindResponse {
				err = fmt.Errorf("got a frame of kind %d", kind)
			}
			if err != nil {
				readErr <- err
				return
			}
			resp, err := rt.ParseResponse(body)
			if err != nil {
				readErr <- err
				return
			}
			if resp.Code != rt.ResourceExhausted {
				readErr <- fmt.Errorf("answer %v, want only ResourceExhausted ones", resp.Err())
				return
			}
			refused.Add(1)
		}
	}()
	var batch []byte
	for id := uint64(1); id <= calls; id++ {
		batch = append(batch, rawFrame(kindRequest, id, body)...)
		if id%500 == 0 {
			if _, err := raw.Write(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	f.svc.waitStarted(t, concurrent)
	// Every call is running, waiting or refused; the good client's calls
	// come and go meanwhile.
	waitUntil(t, "every call to be running, waiting or refused", func() bool {
		return refused.Load()+f.rs.Stats().InFlight >= calls
	})
	inFlight := f.rs.Stats().InFlight
	grewGoroutines, grew := runtime.NumGoroutine()-goroutines, liveBytes()-before
	t.Logf("%d calls on one connection: %d running or waiting, %d refused; goroutines +%d, memory +%d KiB",
		calls, inFlight, refused.Load(), grewGoroutines, grew>>10)
	if inFlight > budget/int64(len(body))+4 {
		t.Errorf("%d calls in flight: more than a budget of %d bytes holds", inFlight, budget)
	}
	if grewGoroutines > concurrent+16 {
		t.Errorf("%d more goroutines, for %d calls running at once", grewGoroutines, concurrent)
	}
	if grew > 8*mib {
		t.Errorf("memory grew %d MiB", grew/mib)
	}
	if extra := len(f.svc.started); extra != 0 {
		t.Errorf("%d handlers started beyond the %d allowed at once", extra, concurrent)
	}
	raw.Close()
	for range concurrent {
		select {
		case <-f.svc.cancelled:
		case <-time.After(10 * time.Second):
			t.Fatal("the running calls were not cancelled when their connection closed")
		}
	}
	waitUntil(t, "the connection's calls to end", func() bool { return f.rs.Stats().InFlight <= 1 })
	if extra := len(f.svc.started); extra != 0 {
		t.Errorf("%d waiting calls started after their connection closed", extra)
	}
	g.check(t)
}

// smallBuffers is a listener whose connections have small socket buffers, so
// that a peer that does not read fills them fast.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(8 << 10)
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// TestHostileNeverReads sends calls and never reads their answers. Once the
// answers queued for it reach the writer's high-water mark, the server stops
// reading the connection (its writes block), its memory stays bounded, and
// when the connection has accepted nothing for the frame timeout the server
// closes it.
func TestHostileNeverReads(t *testing.T) {
	const frameTimeout, maxInFlight = 500 * time.Millisecond, 512 // handlers at once
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := serveOn(t, smallBuffers{ln}, []tcp.ServerOption{tcp.WithFrameTimeout(frameTimeout), tcp.WithMaxConcurrentCalls(maxInFlight)})
	tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{"s": f.addr}), tcp.WithLogger(quiet))
	t.Cleanup(func() { tr.Close() })
	g := startGoodClient(t, rt.NewClient(tr))
	time.Sleep(20 * time.Millisecond)
	before := liveBytes()

	raw := dialRaw(t, f.addr)
	raw.(*net.TCPConn).SetReadBuffer(8 << 10)
	raw.(*net.TCPConn).SetWriteBuffer(8 << 10)
	const answerSize = 8 << 10 // each answer is about 11 KiB of JSON
	body := rt.AppendRequest(nil, &rt.Request{Route: routeSize, Payload: fmt.Appendf(nil, `{"A0":%d}`, answerSize)})
	var batch []byte
	var sent uint64
	for sent < 200000 {
		batch = batch[:0]
		for range 100 {
			sent++
			batch = append(batch, rawFrame(kindRequest, sent, body)...)
		}
		raw.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := raw.Write(batch); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatal(err)
			}
			break // the server stopped reading
		}
	}
	stalled := time.Now()
	if sent >= 200000 {
		t.Fatalf("the server read %d calls whose answers were never read", sent)
	}
	served := f.svc.calls.Load()
	grew := liveBytes() - before
	t.Logf("a client that never reads: the server stopped reading after serving %d of %d calls sent (%d MiB of answers); memory +%d KiB",
		served, sent, served*answerSize/mib, grew>>10)
	// What the server may hold: the answers of the calls in flight, each
	// blocked with its goroutine until there is room, and the queue, twice
	// (queued and being written).
	if limit := int64(maxInFlight*(answerSize*2+32<<10) + 6*mib); grew > limit {
		t.Errorf("memory grew %d MiB, over the %d MiB that %d calls in flight and the queue account for", grew/mib, limit/mib, maxInFlight)
	}
	waitUntil(t, "the server to close the connection that does not read", func() bool { return f.srv.NumConns() <= 1 })
	closed := time.Since(stalled)
	t.Logf("closed %v after the client's writes stalled (frame timeout %v)", closed.Round(time.Millisecond), frameTimeout)
	if closed > 3*frameTimeout+10*time.Second {
		t.Errorf("closed after %v", closed)
	}
	g.check(t)
}

// TestHostileIdleConnections opens 2000 connections that make a call each
// and stay open: the memory the server holds for each is bounded, and with
// a short idle timeout they are all closed, each with a go-away frame.
func TestHostileIdleConnections(t *testing.T) {
	const n = 2000
	f := start(t, nil, nil)
	g := startGoodClient(t, f.client)
	time.Sleep(20 * time.Millisecond)

	// open dials n connections and makes a call on each: all the dials,
	// then all the requests, then all the answers, so that no time goes
	// into waiting for one round trip after another.
	open := func(t *testing.T, addr string, n int) []net.Conn {
		conns := make([]net.Conn, n)
		t.Cleanup(func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		})
		for i := range conns {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			conns[i] = c
		}
		req := echoRequest(1, "raw")
		for _, c := range conns {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range conns {
			kind, _, body, err := readFrame(bufio.NewReaderSize(c, 16))
			if err != nil || kind != kindResponse {
				t.Fatalf("answer of kind %d, %v", kind, err)
			}
			if resp, err := rt.ParseResponse(body); err != nil || resp.Code != rt.OK {
				t.Fatalf("answer %+v, %v", resp, err)
			}
		}
		return conns
	}

	goroutines, before := runtime.NumGoroutine(), liveBytes()
	opening := time.Now()
	open(t, f.addr, n)
	t.Logf("opened %d connections in %v", n, time.Since(opening).Round(time.Millisecond))
	grew := liveBytes() - before
	per := grew / n
	t.Logf("%d idle connections after a call each: %d bytes each (live heap and stacks, the raw client's side included), %.1f goroutines each",
		n, per, float64(runtime.NumGoroutine()-goroutines)/n)
	if per > 64<<10 {
		t.Errorf("%d KiB per idle connection", per>>10)
	}
	if got := f.srv.NumConns(); got != n+1 {
		t.Errorf("the server serves %d connections, want %d", got, n+1)
	}

	t.Run("closed when idle", func(t *testing.T) {
		const n, idle = 200, 300 * time.Millisecond
		fi := start(t, []tcp.ServerOption{tcp.WithIdleTimeout(idle)}, nil)
		gi := startGoodClient(t, fi.client)
		conns := open(t, fi.addr, n)
		answered := time.Now()
		var slowest time.Duration
		for _, c := range conns {
			c.SetReadDeadline(answered.Add(idle + 3*time.Second))
			r := bufio.NewReader(c)
			kind, _, _, err := readFrame(r)
			if err != nil || kind != kindGoAway {
				t.Fatalf("idle connection: got kind %d, %v; want a go-away frame", kind, err)
			}
			if _, err := r.ReadByte(); err != io.EOF {
				t.Fatalf("after the go-away frame: %v, want EOF", err)
			}
			slowest = max(slowest, time.Since(answered))
			c.Close()
		}
		t.Logf("%d connections idle for %v: all closed with a go-away frame within %v", n, idle, slowest.Round(time.Millisecond))
		waitUntil(t, "the idle connections to go", func() bool { return fi.srv.NumConns() <= 1 })
		gi.check(t)
	})
	g.check(t)
}

// kindGoAway is the frame a server sends before closing an idle connection.
const kindGoAway = 4

// TestIdleCloseIsTransparent makes calls at intervals around a very short
// idle timeout, so that calls race the server closing the connection: every
// call succeeds, those that raced going out again on a new connection.
func TestIdleCloseIsTransparent(t *testing.T) {
	const idle = 30 * time.Millisecond
	resent := &countingHandler{substr: "sending a call again"}
	f := start(t, []tcp.ServerOption{tcp.WithIdleTimeout(idle)}, []tcp.TransportOption{tcp.WithLogger(slog.New(resent))})
	ctx := ctxFor(t, 20*time.Second)
	pauses := []time.Duration{20, 26, 28, 29, 30, 31, 32, 34, 40}
	for i := range 45 {
		if err := echo(ctx, f.client, fmt.Sprint(i)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(pauses[i%len(pauses)] * time.Millisecond)
	}
	t.Logf("45 calls around an idle timeout of %v: all succeeded, over %d connections; %d raced the close and were sent again",
		idle, f.ln.accepted.Load(), resent.n.Load())
	if f.ln.accepted.Load() < 2 {
		t.Error("the server never closed the idle connection")
	}
}

// countingHandler counts the log records whose message contains substr.
type countingHandler struct {
	substr string
	n      atomic.Int64
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.substr) {
		h.n.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// settingsPayload returns the arguments of routeSettings: a map of about
// size bytes of tiny keys, which costs a decoder many times its size.
func settingsPayload(size int) []byte {
	b := []byte(`{"A0":{`)
	for i := 0; len(b) < size; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, `":""`...)
	}
	return append(b, "}}"...)
}

// refusedCallCost sends calls of frame to srv on one connection, one after
// the other, and returns the bytes the process allocated per call and the
// answers' codes.
func refusedCallCost(t *testing.T, addr string, frame []byte, calls int) (int64, map[rt.Code]int) {
	raw := dialRaw(t, addr)
	raw.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(raw)
	codes := make(map[rt.Code]int)
	call := func() {
		if _, err := raw.Write(frame); err != nil {
			t.Fatal(err)
		}
		_, _, body, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rt.ParseResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		codes[resp.Code]++
	}
	call() // the connection's own set-up is not the call's cost
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range calls {
		call()
	}
	runtime.ReadMemStats(&after)
	delete(codes, rt.OK)
	return int64(after.TotalAlloc-before.TotalAlloc) / int64(calls), codes
}

// TestHostileRefusedCallCostsItsFrame: an admission refuses a call before
// its arguments are decoded, so a caller that may not call a route cannot
// make the server decode megabytes for it. A refused call costs the server
// at most 1.1 times its frame and 64 KiB, where decoding the same arguments
// costs many times more.
func TestHostileRefusedCallCostsItsFrame(t *testing.T) {
	payload := settingsPayload(1 << 20)
	frame := rawFrame(kindRequest, 1, rt.AppendRequest(nil, &rt.Request{Route: routeSettings, Payload: payload}))

	svc := newService()
	srv := rt.NewServer(rt.WithLogger(quiet), rt.WithAdmission(rt.RequireIdentity("test.", "backend-1")))
	srv.RegisterService(svc.desc(), svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := tcp.NewServer(srv, tcp.WithLogger(quiet))
	go ts.Serve(ln)
	t.Cleanup(func() { ts.Close() })

	const calls = 4
	perCall, codes := refusedCallCost(t, ln.Addr().String(), frame, calls)
	t.Logf("a refused call of %d KiB made the process allocate %d KiB (%.2fx its frame); answers %v",
		len(frame)>>10, perCall>>10, float64(perCall)/float64(len(frame)), codes)
	if codes[rt.Unauthenticated] != calls+1 {
		t.Fatalf("answers %v, want every call Unauthenticated", codes)
	}
	if limit := int64(len(frame))*11/10 + 64<<10; perCall > limit {
		t.Errorf("a refused call allocated %d bytes, over 1.1x its frame of %d bytes plus 64 KiB", perCall, len(frame))
	}
	if n := svc.calls.Load(); n != 0 {
		t.Errorf("%d refused calls reached the handler", n)
	}

	// For comparison, what decoding the same arguments costs.
	open := start(t, nil, nil)
	decoded, _ := refusedCallCost(t, open.addr, frame, 1)
	t.Logf("the same call, admitted and decoded: %d KiB (%.1fx its frame)", decoded>>10, float64(decoded)/float64(len(frame)))
}

// TestHostilePartialFrames opens many connections that each send most of a
// large frame and stall: what the server holds for frames still arriving
// stays within its partial-frame budget, the connections beyond it wait,
// other callers are served meanwhile, and everything is released when the
// stalled connections go.
func TestHostilePartialFrames(t *testing.T) {
	const maxFrame, budget, conns = 256 << 10, 1 << 20, 16
	f := start(t, []tcp.ServerOption{tcp.WithMaxFrame(maxFrame), tcp.WithPartialFrameBudget(budget), tcp.WithFrameTimeout(3 * time.Second)}, nil)
	g := startGoodClient(t, f.client)
	time.Sleep(20 * time.Millisecond)
	before := liveBytes()

	const announced, sent = maxFrame - 16, 200 << 10
	part := binary.BigEndian.AppendUint32(nil, announced)
	part = append(part, kindRequest, 1)
	part = append(part, make([]byte, sent)...)
	var raws []net.Conn
	for range conns {
		raw := dialRaw(t, f.addr)
		raw.SetDeadline(time.Now().Add(30 * time.Second))
		go raw.Write(part) // blocks once the server stops reading it
		raws = append(raws, raw)
	}
	waitUntil(t, "the connections beyond the budget to wait", func() bool {
		st := f.srv.Stats()
		return st.Paused > 0 && st.PartialBytes > budget/2
	})
	st := f.srv.Stats()
	grew := liveBytes() - before
	t.Logf("%d connections each sending %d KiB of a %d KiB frame: %d KiB held for partial frames, %d connections waiting; memory +%d KiB",
		conns, sent>>10, announced>>10, st.PartialBytes>>10, st.Paused, grew>>10)
	if st.PartialBytes > budget {
		t.Errorf("%d bytes held for partial frames, over the budget of %d", st.PartialBytes, budget)
	}
	if limit := int64(budget + 4*mib); grew > limit {
		t.Errorf("memory grew %d KiB, over the budget of %d KiB and 4 MiB", grew>>10, budget>>10)
	}
	if err := echo(ctxFor(t, 20*time.Second), f.client, "beside them"); err != nil {
		t.Fatal(err)
	}
	for _, raw := range raws {
		raw.Close()
	}
	waitUntil(t, "the partial frames to be released", func() bool {
		st := f.srv.Stats()
		return st.PartialBytes == 0 && st.Paused == 0
	})
	g.check(t)
}
