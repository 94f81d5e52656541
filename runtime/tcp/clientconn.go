package tcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// callShards spreads the calls in flight on a connection over several locks,
// so that many callers registering and answers arriving do not all queue on
// one mutex.
const callShards = 16

// call is a caller waiting for its answer. The reader, or whoever fails the
// connection, takes it out of its shard, sets resp or err and sends on done;
// after that only the caller touches it. Calls are pooled.
type call struct {
	done chan struct{} // capacity 1
	resp runtime.Response
	err  error
}

type callShard struct {
	mu    sync.Mutex
	calls map[uint64]*call
	err   error // set when the connection died: no more calls
	_     [32]byte
}

// errGoAway fails the calls left on a connection the server closed with a
// go-away frame. The server served none of them, so [Transport.RoundTrip]
// sends them again on a new connection; the error reaches a caller only when
// that keeps happening.
var errGoAway = runtime.NewError(runtime.Unavailable, "connection closed by the server as idle")

// clientConn is one connection from a [Transport] to a server address.
type clientConn struct {
	p      *peer
	nc     net.Conn
	w      *writer
	fr     *frameReader
	nextID atomic.Uint64
	shards [callShards]callShard
	once   sync.Once
}

func newClientConn(p *peer, nc net.Conn) *clientConn {
	cc := &clientConn{p: p, nc: nc, fr: newFrameReader(nc, p.t.o.maxFrame, clientReadBuffer)}
	cc.w = newWriter(nc, 0, func(err error) { cc.close(cc.lost(err)) })
	for i := range cc.shards {
		cc.shards[i].calls = make(map[uint64]*call)
	}
	return cc
}

// roundTrip sends req and waits for its answer, the connection's death or
// the end of ctx, whichever comes first.
func (cc *clientConn) roundTrip(ctx context.Context, req *runtime.Request) (runtime.Response, error) {
	t := cc.p.t
	c := t.calls.Get().(*call)
	id := cc.nextID.Add(1)
	sh := &cc.shards[id%callShards]
	sh.mu.Lock()
	if sh.err != nil {
		err := sh.err
		sh.mu.Unlock()
		t.calls.Put(c)
		return runtime.Response{}, err
	}
	sh.calls[id] = c
	sh.mu.Unlock()

	queue, err := cc.w.begin(ctx.Done(), false)
	if err != nil {
		if err == errWaitAborted {
			err = runtime.ContextError(ctx.Err())
		}
		return cc.abandon(id, c, err)
	}
	start := len(queue)
	queue = beginFrame(queue, kindRequest, id)
	queue = runtime.AppendRequest(queue, req)
	if n, ok := endFrame(queue, start, t.o.maxFrame); !ok {
		cc.w.commit(queue[:start], false)
		return cc.abandon(id, c, runtime.Errorf(runtime.ResourceExhausted, "request frame of %d bytes exceeds the limit of %d", n, t.o.maxFrame))
	}
	cc.w.commit(queue, true)

	select {
	case <-c.done:
	case <-ctx.Done():
		if cc.take(id) != nil {
			cc.cancel(id)
			t.calls.Put(c)
			return runtime.Response{}, runtime.ContextError(ctx.Err())
		}
		// The answer is being delivered; it raced the caller's end and
		// still counts.
		<-c.done
	}
	resp, err := c.resp, c.err
	c.resp, c.err = runtime.Response{}, nil
	t.calls.Put(c)
	return resp, err
}

// abandon withdraws a call that was registered but not sent, returning err,
// unless the connection's death got to it first: then its error.
func (cc *clientConn) abandon(id uint64, c *call, err error) (runtime.Response, error) {
	if cc.take(id) == nil {
		<-c.done
		err = c.err
		c.resp, c.err = runtime.Response{}, nil
	}
	cc.p.t.calls.Put(c)
	return runtime.Response{}, err
}

// take removes call id from the calls in flight and returns it, or nil when
// it is no longer there.
func (cc *clientConn) take(id uint64) *call {
	sh := &cc.shards[id%callShards]
	sh.mu.Lock()
	c := sh.calls[id]
	if c != nil {
		delete(sh.calls, id)
	}
	sh.mu.Unlock()
	return c
}

// cancel tells the server that nobody waits for call id any more. It never
// waits for room in the queue: a caller whose ctx ended returns at once.
func (cc *clientConn) cancel(id uint64) {
	queue, err := cc.w.begin(nil, true)
	if err != nil {
		return
	}
	start := len(queue)
	queue = beginFrame(queue, kindCancel, id)
	endFrame(queue, start, maxFrameLimit)
	cc.w.commit(queue, true)
}

// hello queues the frame that names the server and incarnation the
// connection is meant for; it must be the connection's first.
func (cc *clientConn) hello(serverID, incarnation string) {
	queue, err := cc.w.begin(nil, true)
	if err != nil {
		return
	}
	start := len(queue)
	queue = beginFrame(queue, kindHello, 0)
	queue = appendHello(queue, serverID, incarnation)
	endFrame(queue, start, maxFrameLimit)
	cc.w.commit(queue, true)
}

// readLoop hands each answer to its caller until the connection fails.
func (cc *clientConn) readLoop() {
	defer cc.p.t.wg.Done()
	for {
		f, err := cc.fr.next()
		if err != nil {
			cc.close(cc.lost(err))
			return
		}
		if f.kind == kindGoAway {
			cc.close(errGoAway)
			return
		}
		if f.kind == kindRefused {
			// Not the server meant: it read nothing after the hello, so
			// no call was served, and the peer is stale.
			cc.p.t.peers.CompareAndDelete(cc.p.key, cc.p)
			cc.close(fmt.Errorf("%w: %s refused the connection: %s", runtime.ErrNotDelivered, cc.p.addr, truncate(f.body, 256)))
			return
		}
		if f.kind != kindResponse {
			cc.p.t.o.logger.Warn("sessionrpc/tcp: closing connection after a protocol violation", "addr", cc.p.addr, "kind", f.kind)
			cc.close(runtime.Errorf(runtime.Unavailable, "connection to %s closed: server sent a frame of kind %d", cc.p.addr, f.kind))
			return
		}
		c := cc.take(f.id)
		if c == nil {
			continue // the answer of a call whose caller gave up
		}
		resp, err := runtime.ParseResponse(f.body)
		if err != nil {
			c.err = runtime.Errorf(runtime.Internal, "malformed response from %s: %v", cc.p.addr, err)
		} else {
			if !f.owned {
				// The caller keeps the payload; the read buffer is reused.
				resp.Payload = clone(resp.Payload)
			}
			c.resp = resp
		}
		c.done <- struct{}{}
	}
}

func (cc *clientConn) writeLoop() {
	defer cc.p.t.wg.Done()
	cc.w.run()
}

// lost turns the error that ended the connection into the one its callers see.
func (cc *clientConn) lost(err error) error {
	var re *runtime.Error
	switch {
	case errors.As(err, &re):
		return err
	case errors.Is(err, io.EOF):
		return runtime.Errorf(runtime.Unavailable, "connection to %s closed by the server", cc.p.addr)
	}
	return runtime.Errorf(runtime.Unavailable, "connection to %s lost: %v", cc.p.addr, err)
}

// close ends the connection once: the peer forgets it, and every call in
// flight fails with err.
func (cc *clientConn) close(err error) {
	cc.once.Do(func() {
		cc.p.drop(cc)
		cc.nc.Close()
		cc.w.stop(err)
		for i := range cc.shards {
			sh := &cc.shards[i]
			sh.mu.Lock()
			sh.err = err
			calls := sh.calls
			sh.calls = nil
			sh.mu.Unlock()
			for _, c := range calls {
				c.err = err
				c.done <- struct{}{}
			}
		}
	})
}

// truncate returns b as a string, cut to at most n bytes.
func truncate(b []byte, n int) string { return string(b[:min(len(b), n)]) }

// clone returns a copy of b that the receiver owns; nil when b is empty.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
