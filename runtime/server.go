package runtime

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Server dispatches calls to the services registered on it. It knows nothing
// of networks: a transport decodes a [Request] off the wire and hands it to
// [Server.Dispatch]. One Server may be served by several transports at once.
type Server struct {
	opts   options
	ic     Interceptor
	mu     sync.Mutex                        // serialises registration
	routes atomic.Pointer[map[string]*route] // copied on write: read without a lock per call

	closing  atomic.Bool
	inflight atomic.Int64
	drained  chan struct{} // receives when inflight drops to zero while closing
}

type route struct {
	desc MethodDesc
	impl any
	call CallFunc // desc.Handler bound to impl, built once
}

// NewServer returns a server with no services. Options: [WithCodec],
// [WithInterceptors], [WithLogger], [WithMaxPayload].
func NewServer(opts ...Option) *Server {
	o := newOptions(opts)
	return &Server{
		opts:    o,
		ic:      chain(o.interceptors),
		drained: make(chan struct{}, 1),
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
		h := m.Handler
		routes[m.Route] = &route{desc: m, impl: impl, call: func(ctx context.Context, args, result any) error {
			return h(ctx, impl, args, result)
		}}
	}
	s.routes.Store(&routes)
}

// Routes returns the registered routes, sorted, for diagnostics.
func (s *Server) Routes() []string {
	routes := s.routes.Load()
	if routes == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(*routes))
}

// Dispatch runs one call: it decodes the arguments, runs the interceptors and
// the handler under the caller's deadline, and encodes the result. A
// panicking handler yields Internal and the server keeps serving; an unknown
// route yields Unimplemented.
func (s *Server) Dispatch(ctx context.Context, req *Request) Response {
	if !s.enter() {
		return ErrorResponse(errShuttingDown)
	}
	defer s.leave()
	var rt *route
	if routes := s.routes.Load(); routes != nil {
		rt = (*routes)[req.Route]
	}
	if rt == nil {
		return ErrorResponse(Errorf(Unimplemented, "unknown route %q", req.Route))
	}
	if req.Timeout > 0 && !hasDeadlineWithin(ctx, req.Timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	if len(req.Metadata) > 0 {
		ctx = withIncomingMetadata(ctx, req.Metadata)
	}
	if len(req.Payload) > s.opts.maxPayload {
		return ErrorResponse(Errorf(ResourceExhausted, "%s: arguments of %d bytes exceed the limit of %d", req.Route, len(req.Payload), s.opts.maxPayload))
	}
	args := rt.desc.NewArgs()
	if err := s.opts.codec.Unmarshal(req.Payload, args); err != nil {
		return ErrorResponse(Errorf(InvalidArgument, "%s: decode arguments: %v", req.Route, err))
	}
	var result any
	if rt.desc.NewResult != nil {
		result = rt.desc.NewResult()
	}
	if err := s.run(ctx, rt, req.Route, args, result); err != nil {
		return ErrorResponse(err)
	}
	if result == nil {
		return Response{}
	}
	payload, err := s.opts.codec.Marshal(result)
	if err != nil {
		return ErrorResponse(Errorf(Internal, "%s: encode result: %v", req.Route, err))
	}
	if len(payload) > s.opts.maxPayload {
		return ErrorResponse(Errorf(ResourceExhausted, "%s: result of %d bytes exceeds the limit of %d", req.Route, len(payload), s.opts.maxPayload))
	}
	return Response{Payload: payload}
}

// ParseRequest implements [RequestParser]: a request for a registered route
// gets the route's string as registered, with no allocation.
func (s *Server) ParseRequest(data []byte) (Request, error) {
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

// hasDeadlineWithin reports whether ctx already ends within d, as when the
// transport made the call's context from the envelope's timeout: a second
// timer for the same deadline would only cost.
func hasDeadlineWithin(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= d
}

// run calls the handler through the interceptors, turning a panic into an
// Internal error.
func (s *Server) run(ctx context.Context, rt *route, name string, args, result any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.logger.Error("sessionrpc: handler panicked", "route", name, "panic", p, "stack", string(debug.Stack()))
			err = Errorf(Internal, "%s: handler panicked: %v", name, p)
		}
	}()
	if s.ic == nil {
		return rt.call(ctx, args, result)
	}
	return s.ic(ctx, CallInfo{Route: name, Server: true}, args, result, rt.call)
}

var errShuttingDown = NewError(Unavailable, "server is shutting down")

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
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}

// Shutdown stops the server taking new calls (they get Unavailable) and waits
// until the calls in flight have returned or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	for s.inflight.Load() > 0 {
		select {
		case <-s.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
