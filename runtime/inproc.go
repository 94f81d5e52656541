package runtime

import (
	"context"
	"fmt"
	"sync"

	"github.com/sessionrpc/sessionrpc/internal/callctx"
)

// InProc is the in-process [Transport]: servers listed by id in one process,
// called through the same envelope, codec and interceptors as over a network,
// so caller and handler never share a value. Use it in tests and for
// single-binary deployments. The zero value is not usable; call [NewInProc].
type InProc struct {
	maxPayload int
	calls      sync.Pool // of *inprocCall
	mu         sync.RWMutex
	servers    map[string]*inprocServer
}

type inprocServer struct {
	d        Dispatcher
	killed   chan struct{} // closed by a hard stop: answers still to come are lost
	workers  *Workers[*inprocCall]
	inflight sync.WaitGroup
	mu       sync.RWMutex // orders closed against inflight.Add
	closed   bool
}

// NewInProc returns an empty in-process network. [WithMaxPayload] sets the
// largest payload it carries, as a network transport's frame limit would.
func NewInProc(opts ...Option) *InProc {
	o := newOptions(opts)
	n := &InProc{maxPayload: o.maxPayload, servers: make(map[string]*inprocServer)}
	n.calls.New = func() any { return &inprocCall{done: make(chan Response, 1)} }
	return n
}

// Serve lists d under serverID until [InProc.Stop] or [InProc.Shutdown]. It
// fails if the id is taken.
func (n *InProc) Serve(serverID string, d Dispatcher) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.servers[serverID]; taken {
		return fmt.Errorf("sessionrpc: in-process server id %q is already served", serverID)
	}
	n.servers[serverID] = &inprocServer{d: d, killed: make(chan struct{}), workers: NewWorkers(64, (*inprocCall).run)}
	return nil
}

// Stop removes serverID at once, as if its process died: calls in flight
// return Unavailable and their handlers' contexts are cancelled.
func (n *InProc) Stop(serverID string) {
	if s := n.remove(serverID); s != nil {
		s.kill()
	}
}

// Shutdown removes serverID gracefully: new calls get Unavailable, calls in
// flight finish. It returns when they have, or with ctx's error when ctx ends
// first (the remaining calls are then stopped as by [InProc.Stop]).
func (n *InProc) Shutdown(ctx context.Context, serverID string) error {
	s := n.remove(serverID)
	if s == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.kill()
		return ctx.Err()
	}
}

// kill makes the callers of calls in flight return Unavailable; returning,
// they cancel their handlers' contexts.
func (s *inprocServer) kill() { close(s.killed) }

func (n *InProc) remove(serverID string) *inprocServer {
	n.mu.Lock()
	s := n.servers[serverID]
	delete(n.servers, serverID)
	n.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.workers.Close()
	}
	return s
}

// RoundTrip implements [Transport]. The handler runs on its own goroutine so
// that the caller returns by its deadline even when the handler does not.
func (n *InProc) RoundTrip(ctx context.Context, serverID string, req *Request) (Response, error) {
	if len(req.Payload) > n.maxPayload {
		return Response{}, Errorf(ResourceExhausted, "payload of %d bytes exceeds the transport limit of %d", len(req.Payload), n.maxPayload)
	}
	n.mu.RLock()
	s := n.servers[serverID]
	n.mu.RUnlock()
	if s == nil {
		return Response{}, fmt.Errorf("%w: unknown server %q", ErrNotDelivered, serverID)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return Response{}, fmt.Errorf("%w: server %q stopped", ErrNotDelivered, serverID)
	}
	s.inflight.Add(1)
	s.mu.RUnlock()

	// The handler's context is its own, as across a network: it carries the
	// caller's deadline and is cancelled when the caller returns, but none of
	// the caller's values.
	hctx := callctx.New(context.Background(), req.Timeout)
	defer hctx.Cancel()

	// The callee gets its own copy of everything the caller could still
	// touch: the caller reuses the payload's buffer once it returns, which
	// may be before the handler is done with it.
	c := n.calls.Get().(*inprocCall)
	c.s, c.ctx = s, hctx
	c.buf = append(c.buf[:0], req.Payload...)
	c.req = Request{Route: req.Route, Metadata: req.Metadata.clone(), Payload: c.buf}
	s.workers.Go(c)
	select {
	case resp := <-c.done:
		n.release(c)
		select {
		case <-s.killed:
			// Killed as the answer came: like a process that died
			// before its reply left, the answer is lost.
			return Response{}, Errorf(Unavailable, "server %q stopped", serverID)
		default:
			return resp, nil
		}
	case <-ctx.Done():
		// An answer that raced the caller's deadline still counts.
		select {
		case resp := <-c.done:
			n.release(c)
			return resp, nil
		default:
			return Response{}, ContextError(ctx.Err())
		}
	case <-s.killed:
		return Response{}, Errorf(Unavailable, "server %q stopped", serverID)
	}
}

// inprocCall is one call in flight, reused through InProc.calls once its
// handler has answered (a call abandoned by its caller is left to the GC).
type inprocCall struct {
	s    *inprocServer
	ctx  context.Context
	req  Request
	buf  []byte // holds req.Payload; kept for the next call
	done chan Response
}

func (c *inprocCall) run() {
	resp := c.s.d.Dispatch(c.ctx, &c.req)
	c.s.inflight.Done()
	c.done <- resp
}

func (n *InProc) release(c *inprocCall) {
	c.s, c.ctx, c.req = nil, nil, Request{}
	if cap(c.buf) > maxRetainedBuffer {
		c.buf = nil
	}
	n.calls.Put(c)
}
