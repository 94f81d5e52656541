package runtime

import (
	"context"
	"fmt"
	"sync"
)

// InProc is the in-process [Transport]: servers listed by id in one process,
// called through the same envelope, codec and call path as over a network,
// so caller and handler never share a value. Use it in tests and for
// single-binary deployments. The zero value is not usable; call [NewInProc].
type InProc struct {
	calls   sync.Pool // of *inprocCall
	mu      sync.RWMutex
	servers map[string]*InProcServer
}

// InProcServer is one server id served by an [InProc], from [InProc.Serve]
// until its Shutdown or Close.
type InProcServer struct {
	n       *InProc
	id      string
	ep      *Endpoint
	killed  chan struct{} // closed by Close: answers still to come are lost
	workers *Workers[*inprocCall]
	once    sync.Once
}

// NewInProc returns an empty in-process network.
func NewInProc() *InProc {
	n := &InProc{servers: make(map[string]*InProcServer)}
	n.calls.New = func() any { return &inprocCall{done: make(chan Response, 1)} }
	return n
}

// Serve lists srv under serverID until the returned server's Shutdown or
// Close. It fails if the id is taken.
func (n *InProc) Serve(serverID string, srv *Server) (*InProcServer, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.servers[serverID]; taken {
		return nil, fmt.Errorf("sessionrpc: in-process server id %q is already served", serverID)
	}
	s := &InProcServer{n: n, id: serverID, ep: srv.Endpoint(), killed: make(chan struct{}),
		workers: NewWorkers(64, (*inprocCall).run)}
	n.servers[serverID] = s
	return s, nil
}

// ID returns the server id being served.
func (s *InProcServer) ID() string { return s.id }

// Shutdown stops serving gracefully: the id is unlisted at once (new calls
// get Unavailable) and the calls in flight finish. It returns when they
// have, or with ctx's error when ctx ends first; the calls left are then
// stopped as by [InProcServer.Close].
func (s *InProcServer) Shutdown(ctx context.Context) error {
	s.unlist()
	if err := s.ep.Shutdown(ctx); err != nil {
		s.Close()
		return err
	}
	s.workers.Close()
	return nil
}

// Close stops serving at once, as if the process died: the callers of calls
// in flight return Unavailable and their handlers' contexts are cancelled.
// It returns once those handlers have returned, or after [CloseGrace] if
// some handler ignores its context's end.
func (s *InProcServer) Close() error {
	s.unlist()
	s.once.Do(func() { close(s.killed) })
	s.workers.Close()
	// The callers, woken by killed, cancel their handlers' contexts.
	s.ep.Abort(CloseGrace)
	return nil
}

func (s *InProcServer) unlist() {
	s.ep.Close()
	s.n.mu.Lock()
	if s.n.servers[s.id] == s {
		delete(s.n.servers, s.id)
	}
	s.n.mu.Unlock()
}

// RoundTrip implements [Transport]. The handler runs on its own goroutine so
// that the caller returns by its deadline even when the handler does not.
func (n *InProc) RoundTrip(ctx context.Context, serverID string, req *Request) (Response, error) {
	n.mu.RLock()
	s := n.servers[serverID]
	n.mu.RUnlock()
	if s == nil {
		return Response{}, fmt.Errorf("%w: unknown server %q", ErrNotDelivered, serverID)
	}
	// As a network's frame limit would, the server's payload limit
	// refuses a request too large to send.
	if max := s.ep.MaxPayload(); len(req.Payload) > max {
		return Response{}, Errorf(ResourceExhausted, "payload of %d bytes exceeds the limit of %d", len(req.Payload), max)
	}

	// The callee gets its own copy of everything the caller could still
	// touch: the caller reuses the payload's buffer once it returns, which
	// may be before the handler is done with it.
	c := n.calls.Get().(*inprocCall)
	c.s = s
	c.buf = append(c.buf[:0], req.Payload...)
	in := Request{Route: req.Route, Timeout: req.Timeout, Metadata: req.Metadata, Payload: c.buf}
	if resp, ok := s.ep.BeginRequest(&c.call, in, nil, nil); !ok {
		n.release(c)
		return resp, nil
	}
	// The handler's context is its own, as across a network: it carries the
	// caller's deadline and ends when the caller returns, but none of the
	// caller's values. Kept here: c.call is cleared once the handler is done.
	hctx := c.call.ctx
	defer hctx.Cancel()
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
	s    *InProcServer
	call Call
	buf  []byte // holds the request's payload; kept for the next call
	done chan Response
}

func (c *inprocCall) run() {
	resp := c.s.ep.Serve(&c.call)
	c.s.ep.Done(&c.call)
	c.done <- resp
}

func (n *InProc) release(c *inprocCall) {
	c.s = nil
	if cap(c.buf) > maxRetainedBuffer {
		c.buf = nil
	}
	n.calls.Put(c)
}
