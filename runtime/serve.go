package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionrpc/sessionrpc/internal/callctx"
	"github.com/sessionrpc/sessionrpc/internal/ctxkey"
)

// Endpoint is a [Server] as one transport serves it: the transport hands it
// the calls that arrive, and it runs them on the server's one call path and
// counts them, so that the transport can drain its own calls on shutdown.
// Transports make one with [Server.Endpoint]; applications never need one.
//
// A call goes through three steps, each called once:
//
//   - [Endpoint.Begin], as soon as the request's bytes are in: it parses the
//     envelope, makes the call's context and charges the call to the
//     budgets. It may answer at once (malformed envelope, shutting down, over
//     budget); otherwise the transport registers the call, so that a cancel
//     from the caller reaches [Call.Cancel], and runs Serve.
//   - [Endpoint.Serve], on a goroutine of the transport's choosing: admission,
//     decoding, interceptors, handler, encoding. It returns the answer.
//   - [Endpoint.Done], once the answer is handed to the network, or when the
//     transport gives up on a call it never served (its connection closed
//     while it waited): it releases what the call held.
type Endpoint struct {
	s        *Server
	closing  atomic.Bool
	inflight atomic.Int64
	drain    drainSignal
}

// Endpoint returns a new endpoint of s for one transport to serve.
func (s *Server) Endpoint() *Endpoint {
	return &Endpoint{s: s, drain: newDrainSignal()}
}

// Server returns the server e serves.
func (e *Endpoint) Server() *Server { return e.s }

// MaxPayload returns the largest encoded arguments or result the server
// takes ([WithMaxPayload]), for transports to size their limits.
func (e *Endpoint) MaxPayload() int { return e.s.opts.maxPayload }

// NewBudget returns a budget of limit bytes (none when 0 or less) for one
// connection of the transport: what it is charged also counts against the
// server's budget.
func (e *Endpoint) NewBudget(limit int64) *Budget { return NewBudget(limit, e.s.budget) }

// Call is one call between [Endpoint.Begin] and [Endpoint.Done]. Transports
// keep it in their own per-call state (it may be reused after Done); its
// fields are the endpoint's.
type Call struct {
	ctx     *callctx.Context
	req     Request
	peer    *Peer
	budget  *Budget // charged with charge bytes
	charge  int
	size    int // of the request envelope
	e       *Endpoint
	served  bool
	octx    context.Context // the Observer's context, when there is one
	started bool            // the Observer's StartCall ran
}

// callOverhead is what each call is charged on top of its envelope: the
// memory of its state, so that a flood of tiny requests is bounded too.
const callOverhead = 512

// Route returns the call's route.
func (c *Call) Route() string { return c.req.Route }

// Context returns the call's context: the caller's deadline and [Peer]. It
// ends when the transport calls [Call.Cancel], when the deadline passes, and
// at [Endpoint.Done].
func (c *Call) Context() context.Context { return c.ctx }

// Cancel ends the call's context: the caller gave up, or its connection is
// gone. It may be called from any goroutine, any number of times, until
// [Endpoint.Done].
func (c *Call) Cancel() { c.ctx.Cancel() }

// Begin readies c for the request envelope data, which the transport keeps
// unchanged until Done. The call carries peer (nil when the transport knows
// nothing of the caller) and is charged to budget (nil: the server's budget
// only). When Begin reports false the call is over: the transport sends the
// response and does not call Serve or Done.
func (e *Endpoint) Begin(c *Call, data []byte, peer *Peer, budget *Budget) (Response, bool) {
	req, err := e.s.parseRequest(data)
	if err != nil {
		// Not an envelope: nothing to observe, as the route is unknown.
		return ErrorResponse(err), false
	}
	return e.begin(c, req, len(data), peer, budget)
}

// BeginRequest is [Endpoint.Begin] for a transport that has the request
// parsed already, such as [InProc]; its payload must stay unchanged until
// Done.
func (e *Endpoint) BeginRequest(c *Call, req Request, peer *Peer, budget *Budget) (Response, bool) {
	size := len(req.Route) + len(req.Metadata.wire) + len(req.Payload)
	return e.begin(c, req, size, peer, budget)
}

func (e *Endpoint) begin(c *Call, req Request, size int, peer *Peer, budget *Budget) (Response, bool) {
	*c = Call{req: req, peer: peer, size: size, e: e}
	if peer != nil {
		c.ctx = callctx.NewWithValue(context.Background(), req.Timeout, ctxkey.Peer{}, peer)
	} else {
		c.ctx = callctx.New(context.Background(), req.Timeout)
	}
	if !e.enter() {
		return e.refuse(c, ErrShuttingDown), false
	}
	if budget == nil {
		budget = e.s.budget
	}
	charge := size + callOverhead
	if !budget.TryAcquire(charge) {
		e.leave()
		return e.refuse(c, fmt.Errorf("%w: %s: %d bytes in use", ErrOverBudget, req.Route, budget.Used())), false
	}
	c.budget, c.charge = budget, charge
	return Response{}, true
}

// Handle runs req through Begin, Serve and Done on the calling goroutine
// and returns the answer: for callers that need no cancellation from
// outside, such as tests, fuzzers and benchmarks of the call path. req's
// payload must stay unchanged until Handle returns.
func (e *Endpoint) Handle(req Request, peer *Peer) Response {
	var c Call
	resp, ok := e.BeginRequest(&c, req, peer, nil)
	if !ok {
		return resp
	}
	resp = e.Serve(&c)
	e.Done(&c)
	return resp
}

// ErrOverBudget is the ResourceExhausted error of calls refused because the
// server, or the caller's connection, holds as many bytes of calls as its
// budget allows ([WithServerBudget], and the transports' connection
// budgets). Such calls did not run; the caller may try again later.
var ErrOverBudget = NewError(ResourceExhausted, "server busy: memory budget exhausted")

// refuse answers a call that will not run with err, through the observer.
func (e *Endpoint) refuse(c *Call, err error) Response {
	s := e.s
	info := CallInfo{Route: c.req.Route, Server: true, Peer: c.peer}
	var ctx context.Context = c.ctx
	if s.opts.observer != nil {
		info.UnknownRoute = s.lookup(info.Route) == nil
		if c.req.Metadata.wire != "" {
			ctx = withIncomingMetadata(ctx, c.req.Metadata)
		}
		ctx = s.opts.observer.StartCall(ctx, info)
	}
	resp := ErrorResponse(err)
	s.ended(ctx, info, nil, false, c.size, &resp)
	c.ctx.Cancel()
	return resp
}

// Serve runs the call: admission, decoding, interceptors, handler, encoding.
// It returns the answer to send; its payload is the transport's to write and
// is not used again by the server.
func (e *Endpoint) Serve(c *Call) Response { return e.ServeAppend(c, nil) }

// ServeAppend is [Endpoint.Serve] with the result encoded into buf's spare
// capacity when the server's codec is an [AppendCodec] (the JSON codec is):
// the payload of the answer then shares buf's array, and a transport that
// sends the answer before it reuses buf, keeping the buffer from call to
// call, makes the encoding cost no allocation.
func (e *Endpoint) ServeAppend(c *Call, buf []byte) (resp Response) {
	s := e.s
	c.served = true
	rt := s.lookup(c.req.Route)
	info := CallInfo{Route: c.req.Route, Server: true, Peer: c.peer, UnknownRoute: rt == nil}
	var ctx context.Context = c.ctx
	if c.req.Metadata.wire != "" {
		// Before the observer starts, so that a tracer can continue the
		// caller's trace.
		ctx = withIncomingMetadata(ctx, c.req.Metadata)
	}
	if s.opts.observer != nil {
		ctx = s.opts.observer.StartCall(ctx, info)
	}
	var args any
	ran := false
	defer func() {
		// Interceptors, codecs and observers may panic too; the handler's
		// own panics were turned into errors inside the chain.
		if p := recover(); p != nil {
			resp = ErrorResponse(panicked(s.opts.logger, info.Route, "call path", p))
		}
		s.ended(ctx, info, args, ran, c.size, &resp)
	}()
	if err := c.ctx.Err(); err != nil {
		// The caller gave up, or the deadline passed, while the call
		// waited its turn: it does not start.
		return ErrorResponse(ContextError(err))
	}
	if rt == nil {
		return ErrorResponse(Errorf(Unimplemented, "unknown route %q", c.req.Route))
	}
	for _, admit := range s.opts.admissions {
		if err := admit(ctx, info); err != nil {
			return ErrorResponse(checkNilError(s.opts.logger, info.Route, err))
		}
	}
	if len(c.req.Payload) > s.opts.maxPayload {
		return ErrorResponse(Errorf(ResourceExhausted, "%s: arguments of %d bytes exceed the limit of %d", info.Route, len(c.req.Payload), s.opts.maxPayload))
	}
	var decoded, result any
	if rt.desc.NewCall != nil {
		decoded, result = rt.desc.NewCall()
	} else {
		decoded = rt.desc.NewArgs()
		if rt.desc.NewResult != nil {
			result = rt.desc.NewResult()
		}
	}
	if err := s.opts.codec.Unmarshal(c.req.Payload, decoded); err != nil {
		return ErrorResponse(Errorf(InvalidArgument, "%s: decode arguments: %v", info.Route, err))
	}
	args = decoded
	ran = true
	var err error
	if s.ic == nil {
		err = rt.call(ctx, args, result)
	} else {
		err = checkNilError(s.opts.logger, info.Route, s.ic(ctx, info, args, result, rt.call))
	}
	if err != nil {
		return ErrorResponse(err)
	}
	if result == nil {
		return Response{}
	}
	if err := c.ctx.Err(); err != nil {
		// The caller is gone, or its deadline passed: nobody will read the
		// result, so it is not encoded.
		return ErrorResponse(ContextError(err))
	}
	var payload []byte
	if s.acodec != nil && buf != nil {
		payload, err = s.acodec.MarshalAppend(buf[:0], result)
	} else {
		payload, err = s.opts.codec.Marshal(result)
	}
	if err != nil {
		return ErrorResponse(Errorf(Internal, "%s: encode result: %v", info.Route, err))
	}
	if len(payload) > s.opts.maxPayload {
		return ErrorResponse(Errorf(ResourceExhausted, "%s: result of %d bytes exceeds the limit of %d", info.Route, len(payload), s.opts.maxPayload))
	}
	return Response{Payload: payload}
}

// ended counts and observes the end of a call.
func (s *Server) ended(ctx context.Context, info CallInfo, args any, ran bool, reqSize int, resp *Response) {
	if !ran && resp.Code != OK && int(resp.Code) < numCodes {
		s.refused[resp.Code].Add(1)
	}
	if o := s.opts.observer; o != nil {
		o.EndCall(ctx, info, CallEnd{Code: resp.Code, Err: resp.Err(), Args: args, Ran: ran,
			RequestBytes: reqSize, ResponseBytes: len(resp.Payload)})
	}
}

// errAbandoned is how an observer sees a call that its transport dropped
// before it ran, because the caller's connection went away.
var errAbandoned = NewError(Canceled, "caller gone before the call ran")

// Done releases what c held: its context ends, its budget charge is given
// back and it no longer counts as in flight. A call that Begin accepted and
// the transport then dropped without calling Serve is observed as Canceled.
func (e *Endpoint) Done(c *Call) {
	if !c.served {
		e.refuse(c, errAbandoned)
	}
	c.ctx.Cancel()
	c.budget.Release(c.charge)
	*c = Call{}
	e.leave()
}

func (e *Endpoint) enter() bool {
	e.inflight.Add(1)
	if e.closing.Load() || !e.s.enter() {
		e.leaveOnly()
		return false
	}
	return true
}

func (e *Endpoint) leave() {
	e.s.leave()
	e.leaveOnly()
}

func (e *Endpoint) leaveOnly() {
	if e.inflight.Add(-1) == 0 && e.closing.Load() {
		e.drain.fire()
	}
}

// CloseGrace is how long a transport's Close waits for the handlers it
// cancelled to return (see [Endpoint.Abort]).
const CloseGrace = time.Second

// Abort refuses new calls, as [Endpoint.Close] does, and waits until every
// call begun has reached Done or grace has passed: a transport's Close calls
// it once it has cancelled its calls, so that it leaves no handler running
// behind it, unless a handler ignores its context's end. It returns how many
// calls are still in flight.
func (e *Endpoint) Abort(grace time.Duration) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if e.Shutdown(ctx) != nil {
		return e.inflight.Load()
	}
	return 0
}

// InFlight returns the number of calls between Begin and Done.
func (e *Endpoint) InFlight() int64 { return e.inflight.Load() }

// Close makes the endpoint refuse new calls with [ErrShuttingDown].
func (e *Endpoint) Close() { e.closing.Store(true) }

// Shutdown refuses new calls, as [Endpoint.Close] does, and waits until every
// call begun has reached Done, or until ctx ends (its error).
func (e *Endpoint) Shutdown(ctx context.Context) error {
	e.closing.Store(true)
	return e.drain.wait(ctx, &e.inflight)
}

// drainSignal tells any number of waiters that a count of calls in flight
// reached zero once no new call can begin.
type drainSignal struct {
	once *sync.Once
	ch   chan struct{}
}

func newDrainSignal() drainSignal { return drainSignal{once: new(sync.Once), ch: make(chan struct{})} }

func (d drainSignal) fire() { d.once.Do(func() { close(d.ch) }) }

// wait waits until inflight is zero, or ctx ends. Calls refused while
// closing count in and out at once, so inflight may show one for a moment
// after the signal.
func (d drainSignal) wait(ctx context.Context, inflight *atomic.Int64) error {
	if inflight.Load() == 0 {
		return nil
	}
	select {
	case <-d.ch:
	case <-ctx.Done():
		if inflight.Load() > 0 {
			return ctx.Err()
		}
	}
	return nil
}
