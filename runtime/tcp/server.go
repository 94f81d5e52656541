package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// ErrServerClosed is what [Server.Serve] returns after [Server.Shutdown] or
// [Server.Close].
var ErrServerClosed = errors.New("sessionrpc/tcp: server closed")

// Server is the server side: it accepts connections from a [Transport] and
// hands every call on them to a [runtime.Server], whose one call path runs
// it (see [runtime.Endpoint]), each on a goroutine of its own (reused: one
// whose call returned waits for the next, up to a bound). A call's context
// carries the caller's [runtime.Peer] and ends when the caller gives up or
// the connection dies.
//
// What a connection may hold is bounded: handlers running at once
// ([WithMaxConcurrentCalls]; further calls wait their turn), bytes of calls
// and unwritten answers ([WithConnBudget]), answers queued while the peer
// does not read (it stops being read), and, across connections, bytes of
// frames still arriving ([WithPartialFrameBudget]).
type Server struct {
	ep    *runtime.Endpoint
	o     options
	calls sync.Pool // *serverCall

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*serverConn]struct{}
	closed    bool           // no more listeners or connections
	wg        sync.WaitGroup // one per connection

	handlers *runtime.Workers[*serverCall] // run calls on reused goroutines
	partial  *runtime.Budget               // bytes of frames being received
	paused   atomic.Int64                  // connections not being read, for now

	done     chan struct{} // closed when the server has stopped
	doneOnce sync.Once
}

// NewServer returns a server that runs calls on srv. Options: [WithTLS],
// [WithMaxFrame] (or [WithMaxPayload], which sizes it; by default the
// limit of srv), [WithMaxConcurrentCalls], [WithConnBudget],
// [WithPartialFrameBudget], [WithIdleTimeout], [WithFrameTimeout],
// [WithDialTimeout] (the TLS handshake), [WithLogger]. See the package
// documentation for the limits they set.
func NewServer(srv *runtime.Server, opts ...ServerOption) *Server {
	ep := srv.Endpoint()
	opts = append([]ServerOption{WithMaxPayload(ep.MaxPayload())}, opts...)
	s := &Server{
		ep:        ep,
		o:         newServerOptions(opts),
		listeners: make(map[*net.Listener]struct{}),
		conns:     make(map[*serverConn]struct{}),
		done:      make(chan struct{}),
	}
	s.partial = runtime.NewBudget(s.o.partialBudget, nil)
	s.handlers = runtime.NewWorkers(maxIdleHandlers, func(c *serverCall) { c.sc.handle(c) })
	s.calls.New = func() any { return new(serverCall) }
	return s
}

// ListenAndServe listens on the TCP address addr and calls [Server.Serve].
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves them until [Server.Shutdown] or
// [Server.Close], then returns [ErrServerClosed]; it returns other errors
// of ln at once. With [WithTLS] it runs the TLS handshake itself, bounded by
// the dial timeout, on a plain listener; a listener made by tls.NewListener
// works too, without WithTLS. Serve may be called for several listeners at
// once; it closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	key := &ln
	s.listeners[key] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, key)
		s.mu.Unlock()
		ln.Close()
	}()

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if !errors.As(err, &te) || !te.Temporary() {
				return err
			}
			// Out of file descriptors and the like: wait rather than spin,
			// as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.o.logger.Warn("sessionrpc/tcp: accept failed; retrying", "err", err, "delay", delay)
			select {
			case <-time.After(delay):
			case <-s.done:
			}
			continue
		}
		delay = 0
		s.serveConn(nc)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) serveConn(nc net.Conn) {
	if s.o.tls != nil {
		nc = tls.Server(nc, s.o.tls)
	}
	sc := newServerConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[sc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go sc.serve()
}

func (s *Server) removeConn(sc *serverConn) {
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
}

// stopAccepting closes the listeners and refuses connections from now on.
// It returns the connections being served.
func (s *Server) stopAccepting() (conns []*serverConn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for ln := range s.listeners {
		if cerr := (*ln).Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	return conns, err
}

// Shutdown stops the server gracefully: it stops accepting connections,
// answers calls that arrive from now on with [runtime.ErrShuttingDown]
// (Unavailable), waits for the calls in flight to finish and their answers
// to be written, then closes the connections. When ctx ends first it closes
// everything as [Server.Close] does and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ep.Close()
	conns, err := s.stopAccepting()
	if werr := s.ep.Shutdown(ctx); werr != nil {
		s.Close()
		return werr
	}
	for _, sc := range conns {
		sc.w.stopWhenDrained()
	}
	stopped := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		s.Close()
		<-stopped
		return ctx.Err()
	}
	s.stopped()
	return err
}

// Close stops the server at once, as if its process died: it closes the
// listeners and every connection, so callers in flight get Unavailable, and
// cancels the contexts of the calls running; calls waiting their turn never
// run. It returns once the handlers have returned, leaving no goroutine
// behind, or after [runtime.CloseGrace] if some handler ignores its
// context's end (it is logged, and left to finish on its own).
func (s *Server) Close() error {
	s.ep.Close()
	conns, err := s.stopAccepting()
	for _, sc := range conns {
		sc.nc.Close()
	}
	s.wg.Wait()
	if left := s.ep.Abort(runtime.CloseGrace); left > 0 {
		s.o.logger.Warn("sessionrpc/tcp: closed with handlers still running; they ignore their context's end", "handlers", left)
	}
	s.stopped()
	return err
}

// stopped marks the server stopped and lets idle handlers go.
func (s *Server) stopped() {
	s.doneOnce.Do(func() {
		close(s.done)
		s.handlers.Close()
	})
}

// maxIdleHandlers bounds the goroutines a Server keeps waiting for calls
// after theirs returned.
const maxIdleHandlers = 128

// Stats is what a [Server] counted, for monitoring; see also
// [runtime.Server.Stats] for calls refused by code.
type Stats struct {
	Conns int // connections open
	// Paused is the number of connections not being read for now: their
	// peer does not read its answers, or their frame waits for room in the
	// partial-frame budget.
	Paused int
	// PartialBytes is the bytes of frames still arriving, all connections.
	PartialBytes int64
}

// Stats returns what the server counts now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Conns: n, Paused: int(s.paused.Load()), PartialBytes: s.partial.Used()}
}
