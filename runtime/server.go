package runtime

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Server holds the services a server offers and runs the calls that
// transports hand it. It knows nothing of networks: a transport serves it
// through an [Endpoint], and one Server may be served by several transports
// at once.
//
// Every call takes one path, whatever the transport: parse the envelope,
// make the call's context (the caller's deadline and [Peer]), admit it
// ([Admission], budgets), decode the arguments, run the interceptors and the
// handler, encode the result; an [Observer] sees the outcome of every call
// that parsed. A panic anywhere on that path becomes an Internal error for
// the caller and one log record; the server keeps serving.
type Server struct {
	opts   serverOptions
	acodec AppendCodec // the codec, when it is one
	ic     Interceptor
	mu     sync.Mutex                        // serialises registration
	routes atomic.Pointer[map[string]*route] // copied on write: read without a lock per call
	budget *Budget                           // bytes of all calls in flight, every transport

	closing  atomic.Bool
	inflight atomic.Int64
	drain    drainSignal // fires when inflight drops to zero while closing

	refused [numCodes]atomic.Int64 // calls answered without running, by code
}

// numCodes is the number of status codes, for counters indexed by code.
const numCodes = int(Unauthenticated) + 1

type route struct {
	desc MethodDesc
	// call runs the handler bound to its implementation, turning a panic
	// into an Internal error inside the interceptor chain, so that
	// interceptors see it as the caller will.
	call CallFunc
}

// NewServer returns a server with no services. Options: [WithCodec],
// [WithInterceptors], [WithAdmission], [WithObserver], [WithLogger],
// [WithMaxPayload], [WithServerBudget].
func NewServer(opts ...ServerOption) *Server {
	o := newServerOptions(opts)
	acodec, _ := o.codec.(AppendCodec)
	return &Server{
		opts:   o,
		acodec: acodec,
		ic:     chain(o.interceptors),
		budget: NewBudget(o.serverBudget, nil),
		drain:  newDrainSignal(),
	}
}

// RegisterService makes the methods of desc callable, served by impl. It
// panics if a route is registered twice: that is a programming error, found at
// start-up.
func (s *Server) RegisterService(desc *ServiceDesc, impl any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	routes := make(map[string]*route)
	if old := s.routes.Load(); old != nil {
		maps.Copy(routes, *old)
	}
	for _, m := range desc.Methods {
		if _, dup := routes[m.Route]; dup {
			panic(fmt.Sprintf("sessionrpc: route %q registered twice", m.Route))
		}
		routes[m.Route] = &route{desc: m, call: s.bind(m, impl)}
	}
	s.routes.Store(&routes)
}

// bind returns the CallFunc that runs m's handler on impl.
func (s *Server) bind(m MethodDesc, impl any) CallFunc {
	h, name, log := m.Handler, m.Route, s.opts.logger
	return func(ctx context.Context, args, result any) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = panicked(log, name, "handler", p)
			}
		}()
		return checkNilError(log, name, h(ctx, impl, args, result))
	}
}

// Routes returns the registered routes, sorted, for diagnostics.
func (s *Server) Routes() []string {
	routes := s.routes.Load()
	if routes == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(*routes))
}

// lookup returns the route registered under name, or nil.
func (s *Server) lookup(name string) *route {
	if routes := s.routes.Load(); routes != nil {
		return (*routes)[name]
	}
	return nil
}

// parseRequest parses a request envelope, giving a registered route the
// route's string as registered, with no allocation.
func (s *Server) parseRequest(data []byte) (Request, error) {
	routes := s.routes.Load()
	if routes == nil {
		return parseRequest(data, nil)
	}
	return parseRequest(data, func(route []byte) (string, bool) {
		if rt := (*routes)[string(route)]; rt != nil {
			return rt.desc.Route, true
		}
		return "", false
	})
}

// ErrShuttingDown is the Unavailable error of calls that reach a server, or
// one of its transports, that is shutting down. It is safe to send them to
// another server: they did not run.
var ErrShuttingDown = NewError(Unavailable, "server is shutting down")

func (s *Server) enter() bool {
	s.inflight.Add(1)
	if s.closing.Load() {
		s.leave()
		return false
	}
	return true
}

func (s *Server) leave() {
	if s.inflight.Add(-1) == 0 && s.closing.Load() {
		s.drain.fire()
	}
}

// Shutdown stops the server taking new calls, on every transport (they get
// [ErrShuttingDown]), and waits until the calls in flight have returned or
// ctx is done. Transports have a Shutdown of their own, which also drains
// their connections; call that when you stop one transport.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	return s.drain.wait(ctx, &s.inflight)
}

// Stats is a server's count of what it did, for monitoring.
type Stats struct {
	// InFlight is the number of calls between their arrival and their
	// answer, on every transport.
	InFlight int64
	// BudgetUsed is the bytes charged to the server's budget now.
	BudgetUsed int64
	// Refused counts the calls answered without running their handler, by
	// code: unknown routes (Unimplemented), admissions' refusals, budgets
	// (ResourceExhausted), undecodable arguments (InvalidArgument), a
	// server shutting down (Unavailable). Codes with none are absent.
	Refused map[Code]int64
}

// Stats returns what the server counted so far.
func (s *Server) Stats() Stats {
	st := Stats{InFlight: s.inflight.Load(), BudgetUsed: s.budget.Used()}
	for c := range s.refused {
		if n := s.refused[c].Load(); n > 0 {
			if st.Refused == nil {
				st.Refused = make(map[Code]int64)
			}
			st.Refused[Code(c)] = n
		}
	}
	return st
}
