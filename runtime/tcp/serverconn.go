package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// serverCall is one call being served. Pooled by the [Server].
type serverCall struct {
	sc   *serverConn
	id   uint64
	call runtime.Call
	ctx  context.Context // call's, kept to cancel it after call is cleared
	body []byte          // the request envelope
	buf  []byte          // a buffer of the call's own that body is copied into
	out  []byte          // a buffer of the call's own that its result is encoded into
}

type serverShard struct {
	mu    sync.Mutex
	calls map[uint64]*serverCall
	_     [48]byte
}

// outBuffer is the capacity a call's result buffer starts with.
const outBuffer = 256

// lingerPeriod is how long a drained connection waits for the client to
// close its side before closing anyway.
const lingerPeriod = time.Second

// serverConn is one accepted connection.
type serverConn struct {
	s        *Server
	nc       net.Conn
	w        *writer
	peer     *runtime.Peer
	budget   *runtime.Budget // the connection's calls and unwritten answers
	inflight atomic.Int64    // calls begun and not yet done
	// lastCallEnd is when a call last ended, in mono time: the idle
	// timeout counts from it too.
	lastCallEnd atomic.Int64
	shards      [callShards]serverShard
	linger      *time.Timer // closes a drained connection the client keeps open

	// Calls wait their turn here while maxConcurrent handlers run.
	qmu     sync.Mutex
	running int
	waiting []*serverCall
	gone    bool // the connection ended: waiting calls never start
}

func newServerConn(s *Server, nc net.Conn) *serverConn {
	sc := &serverConn{s: s, nc: nc, budget: s.ep.NewBudget(s.o.connBudget)}
	sc.w = newWriter(nc, s.o.ioTimeout, sc.writerStopped)
	sc.w.budget = sc.budget
	for i := range sc.shards {
		sc.shards[i].calls = make(map[uint64]*serverCall)
	}
	return sc
}

// serve runs the connection: handshake, then reading until it fails.
func (sc *serverConn) serve() {
	s := sc.s
	defer s.wg.Done()
	defer s.removeConn(sc)
	peer := &runtime.Peer{Addr: sc.nc.RemoteAddr()}
	if tc, ok := sc.nc.(*tls.Conn); ok {
		// A deadline rather than HandshakeContext, which would start a
		// goroutine per handshake to watch the context.
		tc.SetDeadline(time.Now().Add(s.o.dialTimeout))
		err := tc.Handshake()
		tc.SetDeadline(time.Time{})
		if err != nil {
			s.o.logger.Info("sessionrpc/tcp: TLS handshake failed", "remote", peer.Addr, "err", err)
			sc.nc.Close()
			return
		}
		st := tc.ConnectionState()
		peer.TLS = &st
		if len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 {
			peer.Identity = st.PeerCertificates[0].Subject.CommonName
		}
	}
	sc.peer = peer

	writerDone := make(chan struct{})
	go func() {
		sc.w.run()
		close(writerDone)
	}()
	fr := newFrameReader(sc.nc, s.o.maxFrame, serverReadBuffer)
	fr.partial, fr.stop, fr.paused = s.partial, s.done, &s.paused
	if s.o.idleTimeout > 0 || s.o.ioTimeout > 0 {
		fr.t = newReadTimeouts(sc, sc.nc, s.o.idleTimeout, s.o.ioTimeout)
	}
	err := sc.readLoop(fr)
	var refusal *refusedError
	switch {
	case err == errIdle:
		s.o.logger.Debug("sessionrpc/tcp: closing idle connection", "remote", peer.Addr)
		sc.goAway()
		// Read on until the client closes its side, so that a request it
		// sent meanwhile does not make our close a reset that could
		// overtake the go-away frame.
		sc.nc.SetReadDeadline(time.Now().Add(lingerPeriod))
		fr.drain()
	case errors.As(err, &refusal):
		s.o.logger.Info("sessionrpc/tcp: refusing a connection meant for another server", "remote", peer.Addr, "reason", refusal.reason)
		sc.last(kindRefused, []byte(refusal.reason))
		sc.nc.SetReadDeadline(time.Now().Add(lingerPeriod))
		fr.drain() // what the client sent after its hello is never served
	case err != nil && err != errDrained && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		s.o.logger.Warn("sessionrpc/tcp: closing connection", "remote", peer.Addr, "err", err)
	}
	sc.nc.Close()
	sc.w.stop(net.ErrClosed)
	// Waiting calls are taken first, so that a cancelled handler that
	// returns meanwhile starts none of them.
	waiting := sc.takeWaiting()
	sc.cancelAll()
	for _, c := range waiting {
		sc.finish(c)
	}
	<-writerDone
	if sc.linger != nil {
		sc.linger.Stop()
	}
}

// goAway tells the client that the connection closes and that no call it
// sent that has no answer yet was served, so that it sends them again on
// another connection. The reader calls it when it stops reading with no call
// in flight, so that the frame follows every answer: the writer sends it
// last and then half-closes the connection.
func (sc *serverConn) goAway() { sc.last(kindGoAway, nil) }

// last queues a frame of kind with body as the connection's last: the
// writer sends it after every answer queued, then half-closes.
func (sc *serverConn) last(kind byte, body []byte) {
	queue, err := sc.w.begin(nil, true)
	if err != nil {
		return
	}
	start := len(queue)
	queue = append(beginFrame(queue, kind, 0), body...)
	endFrame(queue, start, maxFrameLimit)
	sc.w.commit(queue, true)
	sc.w.stopWhenDrained()
}

// refusedError ends the reading of a connection whose hello names another
// server, or another run of this one.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "connection refused: " + e.reason }

// hello checks the hello frame that opens a connection against the
// server's identity.
func (sc *serverConn) hello(body []byte) error {
	id, inc, err := parseHello(body)
	if err != nil {
		return err
	}
	o := &sc.s.o
	if o.serverID == "" {
		return nil // no identity to check against
	}
	if id != o.serverID || (inc != "" && inc != o.incarnation) {
		return &refusedError{fmt.Sprintf("meant for server %q incarnation %q, reached server %q incarnation %q", id, inc, o.serverID, o.incarnation)}
	}
	return nil
}

// writerStopped runs on the writer goroutine when it stops. After a graceful
// drain it half-closes the connection, so that the client reads every answer
// and then the end, rather than a reset; the client closes its side, which
// ends the reader. A client that does not is closed after lingerPeriod.
func (sc *serverConn) writerStopped(err error) {
	if err == errDrained {
		if cw, ok := sc.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			sc.linger = time.AfterFunc(lingerPeriod, func() { sc.nc.Close() })
			return
		}
	}
	sc.nc.Close()
}

// readLoop reads frames until the connection fails, breaks the protocol or
// runs out of time; the error says which. While the answers queued for the
// client are over the writer's high-water mark it reads nothing: a client
// that does not read its answers stops being read (and the frame timeout
// closes it if it never reads again), so its requests wait in the network's
// buffers, not in ours.
func (sc *serverConn) readLoop(fr *frameReader) error {
	for first := true; ; first = false {
		if sc.w.full.Load() {
			sc.s.paused.Add(1)
			err := sc.w.waitRoom()
			sc.s.paused.Add(-1)
			if err != nil {
				return err
			}
			if fr.t != nil {
				fr.t.resumed()
			}
		}
		f, err := fr.next()
		if err != nil {
			return err
		}
		switch f.kind {
		case kindRequest:
			if err := sc.start(f); err != nil {
				return err
			}
		case kindHello:
			if !first {
				return fmt.Errorf("%w: hello after the first frame", errMalformedFrame)
			}
			if err := sc.hello(f.body); err != nil {
				return err
			}
		case kindCancel:
			if ctx := sc.take(f.id, nil); ctx != nil {
				cancel(ctx)
			}
		default:
			return fmt.Errorf("%w: unknown kind %d", errMalformedFrame, f.kind)
		}
	}
}

// start begins serving a request: it runs at once, or waits its turn
// behind the handlers running for this connection.
func (sc *serverConn) start(f frame) error {
	s := sc.s
	c := s.calls.Get().(*serverCall)
	if f.owned {
		c.body = f.body
	} else {
		c.buf = append(c.buf[:0], f.body...)
		c.body = c.buf
	}
	c.sc, c.id = sc, f.id
	if resp, ok := s.ep.Begin(&c.call, c.body, sc.peer, sc.budget); !ok {
		// Malformed, over budget or shutting down: answered, and the
		// connection stays open.
		sc.respond(f.id, &resp)
		sc.recycle(c)
		return nil
	}
	c.ctx = c.call.Context()
	sh := &sc.shards[f.id%callShards]
	sh.mu.Lock()
	if _, dup := sh.calls[f.id]; dup {
		sh.mu.Unlock()
		s.ep.Done(&c.call)
		sc.recycle(c)
		return fmt.Errorf("%w: call id %d reused while in flight", errMalformedFrame, f.id)
	}
	sh.calls[f.id] = c
	sh.mu.Unlock()
	sc.inflight.Add(1)
	sc.qmu.Lock()
	if sc.running < s.o.maxConcurrent {
		sc.running++
		sc.qmu.Unlock()
		s.handlers.Go(c)
		return nil
	}
	sc.waiting = append(sc.waiting, c)
	sc.qmu.Unlock()
	return nil
}

// handle runs a call and writes its answer, unless the caller gave up, then
// starts the next call waiting, if any.
func (sc *serverConn) handle(c *serverCall) {
	for c != nil {
		if c.out == nil {
			c.out = make([]byte, 0, outBuffer)
		}
		// The answer is copied into the writer's queue before the call
		// ends, so its payload may live in c.out, kept for the next call.
		resp := sc.s.ep.ServeAppend(&c.call, c.out)
		if sc.take(c.id, c) != nil {
			sc.respond(c.id, &resp)
		}
		if n := cap(resp.Payload); n > cap(c.out) && n <= retainMax {
			c.out = resp.Payload[:0]
		}
		sc.finish(c)
		c = sc.next()
	}
}

// next returns the call waiting longest, or nil, and then counts one handler
// fewer.
func (sc *serverConn) next() *serverCall {
	sc.qmu.Lock()
	defer sc.qmu.Unlock()
	if len(sc.waiting) == 0 || sc.gone {
		sc.running--
		return nil
	}
	c := sc.waiting[0]
	sc.waiting[0] = nil
	sc.waiting = sc.waiting[1:]
	if len(sc.waiting) == 0 {
		sc.waiting = nil // let a burst's backing array go
	}
	return c
}

// takeWaiting marks the connection gone and returns the calls that wait
// their turn: they never start.
func (sc *serverConn) takeWaiting() []*serverCall {
	sc.qmu.Lock()
	defer sc.qmu.Unlock()
	sc.gone = true
	waiting := sc.waiting
	sc.waiting = nil
	return waiting
}

// finish ends a call the endpoint began and returns it to the pool.
func (sc *serverConn) finish(c *serverCall) {
	sc.s.ep.Done(&c.call)
	sc.lastCallEnd.Store(mono())
	sc.inflight.Add(-1)
	sc.recycle(c)
}

// recycle returns c to the pool.
func (sc *serverConn) recycle(c *serverCall) {
	c.sc, c.ctx, c.body = nil, nil, nil
	if cap(c.buf) > retainMax {
		c.buf = nil
	}
	sc.s.calls.Put(c)
}

// take removes call id from the calls in flight, if it is there and, when
// want is not nil, is want. It returns the call's context, read under the
// lock because the call may be reused as soon as it is released.
func (sc *serverConn) take(id uint64, want *serverCall) context.Context {
	sh := &sc.shards[id%callShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c := sh.calls[id]
	if c == nil || (want != nil && c != want) {
		return nil
	}
	delete(sh.calls, id)
	return c.ctx
}

// cancelAll cancels every call in flight: the connection is gone.
func (sc *serverConn) cancelAll() {
	var ctxs []context.Context
	for i := range sc.shards {
		sh := &sc.shards[i]
		sh.mu.Lock()
		for id, c := range sh.calls {
			ctxs = append(ctxs, c.ctx)
			delete(sh.calls, id)
		}
		sh.mu.Unlock()
	}
	for _, ctx := range ctxs {
		cancel(ctx)
	}
}

// cancel ends a call's context, which [runtime.Call.Context] made
// cancellable.
func cancel(ctx context.Context) { ctx.(interface{ Cancel() }).Cancel() }

// respond queues the answer to call id. An answer too large for a frame
// becomes a ResourceExhausted error, so that the client is not disconnected
// for it. On a connection that is gone it does nothing.
func (sc *serverConn) respond(id uint64, resp *runtime.Response) {
	queue, err := sc.w.begin(nil, false)
	if err != nil {
		return
	}
	max := sc.s.o.maxFrame
	start := len(queue)
	queue = runtime.AppendResponse(beginFrame(queue, kindResponse, id), resp)
	if n, ok := endFrame(queue, start, max); !ok {
		e := runtime.ErrorResponse(runtime.Errorf(runtime.ResourceExhausted, "response frame of %d bytes exceeds the limit of %d", n, max))
		queue = runtime.AppendResponse(beginFrame(queue[:start], kindResponse, id), &e)
		if _, ok := endFrame(queue, start, max); !ok {
			queue = queue[:start]
		}
	}
	sc.w.commit(queue, len(queue) > start)
}
