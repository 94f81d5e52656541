package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// InProc is the in-process [Transport]: servers listed by id in one process,
// called through the same envelope, codec and interceptors as over a network,
// so caller and handler never share a value. Use it in tests and for
// single-binary deployments. The zero value is not usable; call [NewInProc].
type InProc struct {
	maxPayload int
	mu         sync.RWMutex
	servers    map[string]*inprocServer
}

type inprocServer struct {
	d        Dispatcher
	base     context.Context // cancelled when the server is gone, cancelling every handler
	stop     context.CancelFunc
	killed   chan struct{} // closed by a hard stop: answers still to come are lost
	inflight sync.WaitGroup
	closed   atomic.Bool
	mu       sync.Mutex // orders closing against inflight.Add
}

// NewInProc returns an empty in-process network. [WithMaxPayload] sets the
// largest payload it carries, as a network transport's frame limit would.
func NewInProc(opts ...Option) *InProc {
	o := newOptions(opts)
	return &InProc{maxPayload: o.maxPayload, servers: make(map[string]*inprocServer)}
}

// Serve lists d under serverID until [InProc.Stop] or [InProc.Shutdown]. It
// fails if the id is taken.
func (n *InProc) Serve(serverID string, d Dispatcher) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.servers[serverID]; taken {
		return fmt.Errorf("sessionrpc: in-process server id %q is already served", serverID)
	}
	base, stop := context.WithCancel(context.Background())
	n.servers[serverID] = &inprocServer{d: d, base: base, stop: stop, killed: make(chan struct{})}
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
		s.stop()
		return nil
	case <-ctx.Done():
		s.kill()
		return ctx.Err()
	}
}

func (s *inprocServer) kill() {
	close(s.killed)
	s.stop()
}

func (n *InProc) remove(serverID string) *inprocServer {
	n.mu.Lock()
	s := n.servers[serverID]
	delete(n.servers, serverID)
	n.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.closed.Store(true)
		s.mu.Unlock()
	}
	return s
}

// RoundTrip implements [Transport]. The handler runs on its own goroutine so
// that the caller returns by its deadline even when the handler does not.
func (n *InProc) RoundTrip(ctx context.Context, serverID string, req *Request) (_ *Response, err error) {
	if len(req.Payload) > n.maxPayload {
		return nil, Errorf(ResourceExhausted, "payload of %d bytes exceeds the transport limit of %d", len(req.Payload), n.maxPayload)
	}
	n.mu.RLock()
	s := n.servers[serverID]
	n.mu.RUnlock()
	if s == nil {
		return nil, Errorf(Unavailable, "unknown server %q", serverID)
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, Errorf(Unavailable, "server %q stopped", serverID)
	}
	s.inflight.Add(1)
	s.mu.Unlock()

	// The callee gets its own copy of everything the caller could still
	// touch; the payload is the codec's fresh output and is not reused.
	in := &Request{Route: req.Route, Timeout: req.Timeout, Metadata: req.Metadata.clone(), Payload: req.Payload}
	hctx, cancel := context.WithCancel(s.base)
	defer cancel()
	done := make(chan *Response, 1)
	go func() {
		defer s.inflight.Done()
		done <- s.d.Dispatch(hctx, in)
	}()
	select {
	case resp := <-done:
		select {
		case <-s.killed:
			// Killed as the answer came: like a process that died
			// before its reply left, the answer is lost.
			return nil, Errorf(Unavailable, "server %q stopped", serverID)
		default:
			return resp, nil
		}
	case <-ctx.Done():
		// An answer that raced the caller's deadline still counts.
		select {
		case resp := <-done:
			return resp, nil
		default:
			return nil, ctxError(ctx.Err())
		}
	case <-s.killed:
		return nil, Errorf(Unavailable, "server %q stopped", serverID)
	}
}
