package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// ErrTransportClosed is the error of every call made through a [Transport]
// after [Transport.Close], and of the calls Close interrupted. Its code is
// Unavailable.
var ErrTransportClosed = runtime.NewError(runtime.Unavailable, "tcp transport is closed")

// Transport is the client side: a [runtime.Transport] that sends each call to
// the address its [Resolver] gives for the server id, over one multiplexed
// connection per address, dialled on first use and again after it breaks.
// A connection stays open until it breaks, its server closes it (a server
// closes connections idle for long, see [WithIdleTimeout]; the calls that
// raced the close are sent again on a new connection) or the Transport
// closes. A Transport is safe for concurrent use; make one per process and
// share it.
type Transport struct {
	res   Resolver
	o     options
	peers sync.Map  // peerKey → *peer
	calls sync.Pool // *call, so that a call allocates no waiter

	ctx    context.Context // ends at Close, aborting dials
	cancel context.CancelFunc
	closed atomic.Bool
	mu     sync.Mutex // orders closing against wg.Add
	wg     sync.WaitGroup
}

// NewTransport returns a transport that finds servers through r. Options:
// [WithTLS], [WithMaxPayload], [WithMaxFrame], [WithDialTimeout],
// [WithBackoff], [WithLogger]. It dials nothing until the first call.
func NewTransport(r Resolver, opts ...TransportOption) *Transport {
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{res: r, o: newTransportOptions(opts), ctx: ctx, cancel: cancel}
	t.calls.New = func() any { return &call{done: make(chan struct{}, 1)} }
	return t
}

// RoundTrip implements [runtime.Transport]. It fails with ResourceExhausted,
// before sending anything, when req's payload or frame is over the limit;
// with Unavailable when serverID does not resolve, the server cannot be
// reached or the connection breaks before the answer; with DeadlineExceeded
// or Canceled as soon as ctx ends, telling the server to cancel the call.
func (t *Transport) RoundTrip(ctx context.Context, serverID string, req *runtime.Request) (runtime.Response, error) {
	if len(req.Payload) > t.o.maxPayload {
		return runtime.Response{}, runtime.Errorf(runtime.ResourceExhausted, "payload of %d bytes exceeds the transport limit of %d", len(req.Payload), t.o.maxPayload)
	}
	if err := ctx.Err(); err != nil {
		return runtime.Response{}, runtime.ContextError(err)
	}
	if t.closed.Load() {
		return runtime.Response{}, ErrTransportClosed
	}
	key, err := t.resolve(ctx, serverID)
	if err != nil {
		var re *runtime.Error
		if errors.As(err, &re) {
			return runtime.Response{}, err
		}
		return runtime.Response{}, fmt.Errorf("%w: resolve server %q: %v", runtime.ErrNotDelivered, serverID, err)
	}
	p := t.peer(key)
	addr := key.addr
	for attempt := 1; ; attempt++ {
		cc, err := p.conn(ctx)
		if err != nil {
			return runtime.Response{}, err
		}
		resp, err := cc.roundTrip(ctx, req)
		if err != errGoAway || attempt == maxGoAwayRetries {
			return resp, err
		}
		t.o.logger.Debug("sessionrpc/tcp: sending a call again: the server closed its connection as idle before serving it", "addr", addr, "route", req.Route)
	}
}

// maxGoAwayRetries bounds how many connections a call tries when each is
// closed by its server as idle before the call gets through. One more is
// normally enough: a fresh connection is not idle.
const maxGoAwayRetries = 3

// Close closes every connection and makes the calls in flight, and every call
// after, fail with [ErrTransportClosed]. It returns once the transport's
// goroutines have ended.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closed.Store(true)
	t.mu.Unlock()
	t.cancel()
	t.peers.Range(func(_, v any) bool {
		v.(*peer).close()
		return true
	})
	t.wg.Wait()
	return nil
}

// goStart reserves n goroutines in t.wg, unless t is closed.
func (t *Transport) goStart(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return false
	}
	t.wg.Add(n)
	return true
}

// peerKey names a connection: an address, and, when the resolver knows
// it, the run of the server meant to be there.
type peerKey struct {
	addr, serverID, incarnation string
}

func (t *Transport) resolve(ctx context.Context, serverID string) (peerKey, error) {
	if mr, ok := t.res.(MemberResolver); ok {
		addr, inc, err := mr.ResolveMember(ctx, serverID)
		if err != nil || inc == "" {
			return peerKey{addr: addr}, err
		}
		return peerKey{addr, serverID, inc}, nil
	}
	addr, err := t.res.Resolve(ctx, serverID)
	return peerKey{addr: addr}, err
}

func (t *Transport) peer(key peerKey) *peer {
	if p, ok := t.peers.Load(key); ok {
		return p.(*peer)
	}
	p, _ := t.peers.LoadOrStore(key, &peer{t: t, key: key, addr: key.addr})
	return p.(*peer)
}

func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if t.o.tls == nil {
		return d.DialContext(ctx, "tcp", addr)
	}
	td := &tls.Dialer{NetDialer: d, Config: t.o.tls}
	return td.DialContext(ctx, "tcp", addr)
}

// peer is one server address: its live connection, if any, and the state
// of dialling it.
type peer struct {
	t    *Transport
	key  peerKey
	addr string
	cc   atomic.Pointer[clientConn] // the live connection; nil when none

	mu      sync.Mutex
	dialing *dialAttempt  // the dial in progress, if any
	backoff time.Duration // the last hold-off; 0 after a successful dial
	retryAt time.Time     // no dial before this
	lastErr error         // why the last dial failed
	closed  bool          // the transport closed
}

// dialAttempt is one dial that callers finding no connection wait for.
type dialAttempt struct {
	done chan struct{} // closed when cc or err is set
	cc   *clientConn
	err  error
}

// conn returns the live connection, dialling one if there is none. Callers
// that come while a dial is in progress wait for it, each as long as its own
// ctx allows; callers during a backoff fail at once.
func (p *peer) conn(ctx context.Context) (*clientConn, error) {
	if cc := p.cc.Load(); cc != nil {
		return cc, nil
	}
	p.mu.Lock()
	if cc := p.cc.Load(); cc != nil {
		p.mu.Unlock()
		return cc, nil
	}
	a := p.dialing
	if a == nil {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrTransportClosed
		}
		if wait := time.Until(p.retryAt); wait > 0 {
			err := p.lastErr
			p.mu.Unlock()
			return nil, fmt.Errorf("%w: dial %s: %v (next attempt in %v)", runtime.ErrNotDelivered, p.addr, err, wait.Round(time.Millisecond))
		}
		if !p.t.goStart(1) {
			p.mu.Unlock()
			return nil, ErrTransportClosed
		}
		a = &dialAttempt{done: make(chan struct{})}
		p.dialing = a
		go p.dial(a)
	}
	p.mu.Unlock()
	select {
	case <-a.done:
		return a.cc, a.err
	case <-ctx.Done():
		return nil, runtime.ContextError(ctx.Err())
	}
}

// dial runs one dial attempt on its own goroutine, so that the callers
// waiting for it are bounded by their own contexts, not by the first
// caller's, and so that Close can abort it.
func (p *peer) dial(a *dialAttempt) {
	defer p.t.wg.Done()
	ctx, cancel := context.WithTimeout(p.t.ctx, p.t.o.dialTimeout)
	nc, err := p.t.dial(ctx, p.addr)
	cancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialing = nil
	defer close(a.done)
	if p.closed || p.t.ctx.Err() != nil {
		if nc != nil {
			nc.Close()
		}
		a.err = ErrTransportClosed
		return
	}
	if err != nil {
		p.backoff = min(max(2*p.backoff, p.t.o.backoffMin), p.t.o.backoffMax)
		p.retryAt = time.Now().Add(p.backoff)
		p.lastErr = err
		a.err = fmt.Errorf("%w: dial %s: %v", runtime.ErrNotDelivered, p.addr, err)
		return
	}
	if !p.t.goStart(2) {
		nc.Close()
		a.err = ErrTransportClosed
		return
	}
	p.backoff, p.retryAt, p.lastErr = 0, time.Time{}, nil
	cc := newClientConn(p, nc)
	if p.key.incarnation != "" {
		cc.hello(p.key.serverID, p.key.incarnation) // before any call can use cc
	}
	p.cc.Store(cc)
	a.cc = cc
	go cc.readLoop()
	go cc.writeLoop()
}

// drop forgets cc once it is dead, so that the next call dials.
func (p *peer) drop(cc *clientConn) { p.cc.CompareAndSwap(cc, nil) }

func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	cc := p.cc.Load()
	p.mu.Unlock()
	if cc != nil {
		cc.close(ErrTransportClosed)
	}
}
