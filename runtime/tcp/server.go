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

// shuttingDown answers calls that arrive during a graceful shutdown.
var shuttingDown = runtime.ErrorResponse(runtime.NewError(runtime.Unavailable, "server is shutting down"))

// Server is the server side: it accepts connections from a [Transport] and
// runs every call on them through a [runtime.Dispatcher], each on its own
// goroutine, under a ctx that carries the caller's [runtime.Peer] and ends
// when the caller gives up or the connection dies. (Goroutines are reused:
// one whose call returned waits for the next, up to a bound.)
//
// The Server reuses the buffer a request arrived in once Dispatch returns:
// a Dispatcher must not keep the request's Payload past that ([*runtime.Server]
// decodes it and does not).
type Server struct {
	d     runtime.Dispatcher
	parse func([]byte) (runtime.Request, error) // d's, when it is a RequestParser
	o     options
	calls sync.Pool // *serverCall

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*serverConn]struct{}
	closed    bool           // no more listeners or connections
	wg        sync.WaitGroup // one per connection

	handlers *runtime.Workers[*serverCall] // run calls on reused goroutines

	shutting atomic.Bool  // new calls get Unavailable
	inflight atomic.Int64 // calls dispatched and not yet answered
	drained  chan struct{}
	done     chan struct{} // closed when the server has stopped
	doneOnce sync.Once
}

// NewServer returns a server that dispatches calls to d, normally a
// [*runtime.Server]. Options: [WithTLS], [WithMaxFrame] (or [WithMaxPayload],
// which sizes it), [WithMaxInFlight], [WithIdleTimeout], [WithFrameTimeout],
// [WithDialTimeout] (the TLS handshake), [WithLogger]. See the package
// documentation for the limits they set.
func NewServer(d runtime.Dispatcher, opts ...Option) *Server {
	s := &Server{
		d:         d,
		o:         newOptions(opts),
		listeners: make(map[*net.Listener]struct{}),
		conns:     make(map[*serverConn]struct{}),
		drained:   make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	s.parse = runtime.ParseRequest
	if p, ok := d.(runtime.RequestParser); ok {
		s.parse = p.ParseRequest
	}
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
// answers calls that arrive from now on with Unavailable, waits for the calls
// in flight to finish and their answers to be written, then closes the
// connections. When ctx ends first it closes everything as [Server.Close]
// does and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutting.Store(true)
	conns, err := s.stopAccepting()
	for s.inflight.Load() > 0 {
		select {
		case <-s.drained:
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		}
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
// cancels the contexts of the calls running. It does not wait for handlers
// to return.
func (s *Server) Close() error {
	s.shutting.Store(true)
	conns, err := s.stopAccepting()
	for _, sc := range conns {
		sc.nc.Close()
	}
	s.wg.Wait()
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

// handle runs c on a goroutine of its own, a reused one when one is idle.
func (s *Server) handle(c *serverCall) { s.handlers.Go(c) }

// enter counts a call in flight, unless the server is shutting down.
func (s *Server) enter() bool {
	s.inflight.Add(1)
	if s.shutting.Load() {
		s.leave()
		return false
	}
	return true
}

func (s *Server) leave() {
	if s.inflight.Add(-1) == 0 && s.shutting.Load() {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}
