package natsrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/internal/callctx"
	"github.com/sessionrpc/sessionrpc/internal/ctxkey"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Server serves one server id on NATS: it runs each call that arrives on the
// id's subject through a [runtime.Dispatcher], on a goroutine of its own, and
// publishes the answer. [Serve] starts one.
type Server struct {
	nc         *nats.Conn
	id         string
	subject    string
	d          runtime.Dispatcher
	parse      func([]byte) (runtime.Request, error) // d's, when it is a RequestParser
	log        *slog.Logger
	maxPayload int
	slots      chan struct{} // one per running handler; nil for no bound
	sub        *nats.Subscription

	inflight sync.WaitGroup
	workers  *runtime.Workers[job] // run calls on reused goroutines
	out      outbox                // answers waiting to be published
	mu       sync.Mutex
	state    serverState
	calls    map[string]*serverCall // by reply subject, until answered and published
}

type serverState int

const (
	serving serverState = iota
	draining
	stopped
)

// serverCall is one call the server runs. Whoever sets answered first
// publishes its answer: the handler, through the outbox, or Close on its
// behalf.
type serverCall struct {
	reply    string
	ctx      *callctx.Context // carries the caller's deadline
	answered atomic.Bool
	addr     replyAddr
	peer     runtime.Peer
	req      runtime.Request // the envelope, once parsed
}

// replyAddr is a caller's address as NATS knows it: the subject its answer
// goes to.
type replyAddr string

func (replyAddr) Network() string  { return "nats" }
func (a replyAddr) String() string { return string(a) }

// pingTimeout bounds how long [Serve] waits to learn whether its id is taken.
const pingTimeout = 2 * time.Second

// flushTimeout bounds how long stopping waits for NATS to take the last
// answers and the unsubscription.
const flushTimeout = 2 * time.Second

// Serve serves d under serverID on nc until [Server.Shutdown] or
// [Server.Close], which release what it holds, or until nc closes. It fails
// if the id is invalid, if NATS denies nc's user subscribing to the id's
// subject, or if another server on the same NATS and prefix already serves
// it (checked with a ping; two servers starting at the same instant can
// both pass). nc may be the connection the process calls
// through too, unless it was made with nats.NoEcho, which would hide the
// process's calls to itself. Options: [WithSubjectPrefix],
// [WithMaxPayload], [WithMaxInFlight], [WithLogger].
func Serve(nc *nats.Conn, serverID string, d runtime.Dispatcher, opts ...Option) (*Server, error) {
	o := newOptions(opts)
	if err := checkPrefix(o.prefix); err != nil {
		return nil, err
	}
	subject, err := callSubject(o.prefix, serverID)
	if err != nil {
		return nil, err
	}
	s := &Server{
		nc:         nc,
		id:         serverID,
		subject:    subject,
		d:          d,
		log:        o.logger,
		maxPayload: o.maxPayload,
		calls:      make(map[string]*serverCall),
	}
	s.out.init()
	s.parse = runtime.ParseRequest
	if p, ok := d.(runtime.RequestParser); ok {
		s.parse = p.ParseRequest
	}
	s.workers = runtime.NewWorkers(maxIdleWorkers, func(j job) { s.run(j) })
	if o.maxInFlight > 0 {
		s.slots = make(chan struct{}, o.maxInFlight)
	}
	if err := s.checkFree(); err != nil {
		return nil, err
	}
	before := nc.LastError()
	s.sub, err = nc.Subscribe(subject, s.onMsg)
	if err != nil {
		return nil, fmt.Errorf("natsrpc: serve %q: %w", serverID, err)
	}
	// Once the NATS server has the subscription, calls find it. NATS
	// reports a subscription it denies before it answers the flush.
	if nc.IsConnected() {
		if err := nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Warn("natsrpc: subscription not confirmed", "server", serverID, "err", err)
		} else if err, denied := deniedSince(nc, before, denySubscribe, subject); denied {
			_ = s.sub.Unsubscribe()
			return nil, fmt.Errorf("natsrpc: serve %q: NATS denies this connection's user subscribing to %s: %w", serverID, subject, err)
		}
	}
	return s, nil
}

// checkFree pings the server id and fails if anyone answers.
func (s *Server) checkFree() error {
	if !s.nc.IsConnected() {
		s.log.Warn("natsrpc: NATS not connected, serving without checking that the id is free", "server", s.id)
		return nil
	}
	inbox := s.nc.NewInbox()
	before := s.nc.LastError()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("natsrpc: serve %q: %w", s.id, err)
	}
	defer sub.Unsubscribe()
	if err := s.nc.PublishMsg(controlMsg(s.subject, inbox, controlProbe, nil)); err != nil {
		return fmt.Errorf("natsrpc: serve %q: %w", s.id, err)
	}
	// A ping that NATS denies, or whose answer it denies, gets no answer: a
	// flush finds out sooner than the ping's timeout.
	if err := s.nc.FlushTimeout(pingTimeout); err == nil {
		_, pubDenied := deniedSince(s.nc, before, denyPublish, s.subject)
		_, subDenied := deniedSince(s.nc, before, denySubscribe, inbox)
		if pubDenied || subDenied {
			s.log.Warn("natsrpc: NATS denies the id check, serving without checking that the id is free", "server", s.id, "err", s.nc.LastError())
			return nil
		}
	}
	_, err = sub.NextMsg(pingTimeout)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case errors.Is(err, nats.ErrTimeout):
		s.log.Warn("natsrpc: id check timed out, serving anyway", "server", s.id)
		return nil
	case err != nil:
		return fmt.Errorf("natsrpc: serve %q: %w", s.id, err)
	}
	return fmt.Errorf("natsrpc: server id %q is already served on %s", s.id, s.subject)
}

// ID returns the server id being served.
func (s *Server) ID() string { return s.id }

// onMsg runs on the subscription's goroutine for every message to the
// server's subject, in the order NATS delivers them. It never blocks.
func (s *Server) onMsg(m *nats.Msg) {
	if m.Header != nil {
		if kind := m.Header.Get(controlHeader); kind != "" {
			s.control(kind, m)
			return
		}
	}
	if m.Reply == "" {
		s.log.Debug("natsrpc: call without a reply subject dropped", "server", s.id)
		return
	}
	s.mu.Lock()
	switch {
	case s.state == draining:
		s.mu.Unlock()
		s.publish(m.Reply, &runtime.Response{Code: runtime.Unavailable, Message: fmt.Sprintf("natsrpc: server %q is shutting down", s.id)})
		return
	case s.state == stopped:
		s.mu.Unlock()
		return // as dead
	case s.calls[m.Reply] != nil:
		s.mu.Unlock()
		s.log.Warn("natsrpc: call with a reply subject in use dropped", "server", s.id, "reply", m.Reply)
		return
	}
	// The envelope is parsed on arrival so that the call's one context
	// carries the caller's deadline from the start.
	req, perr := s.parse(m.Data)
	c := &serverCall{reply: m.Reply, addr: replyAddr(m.Reply), req: req}
	c.peer.Addr = &c.addr
	// The caller's deadline from the start, and the Peer without a
	// context.WithValue per call.
	c.ctx = callctx.NewWithValue(context.Background(), req.Timeout, ctxkey.Peer{}, &c.peer)
	s.calls[m.Reply] = c
	s.inflight.Add(1)
	s.mu.Unlock()
	s.workers.Go(job{c, perr})
}

// maxIdleWorkers bounds the workers kept waiting for calls after a burst.
const maxIdleWorkers = 256

// A job is a call for a worker to run.
type job struct {
	c    *serverCall
	perr error // why the envelope did not parse, if it did not
}

func (s *Server) control(kind string, m *nats.Msg) {
	switch kind {
	case controlCancel:
		s.mu.Lock()
		c := s.calls[string(m.Data)]
		s.mu.Unlock()
		if c != nil {
			c.ctx.Cancel()
		}
	case controlProbe:
		if m.Reply == "" {
			return
		}
		var out []byte
		if len(m.Data) > 0 {
			n := bytes.Count(m.Data, []byte{'\n'}) + 1
			out = make([]byte, 0, n)
			s.mu.Lock()
			for line := range bytes.SplitSeq(m.Data, []byte{'\n'}) {
				if s.calls[string(line)] != nil {
					out = append(out, probeRunning)
				} else {
					out = append(out, probeUnknown)
				}
			}
			s.mu.Unlock()
		}
		if err := s.nc.Publish(m.Reply, out); err != nil {
			s.log.Debug("natsrpc: probe answer not sent", "server", s.id, "err", err)
		}
	}
}

// run runs one call on its own goroutine and answers it. The call stays in
// s.calls until its answer is published (see [Server.publishQueued]).
func (s *Server) run(j job) {
	c := j.c
	defer s.inflight.Done()
	resp := s.dispatch(c, j.perr)
	c.ctx.Cancel() // the handler has returned: release its timer, if any
	s.answer(c, &resp)
}

func (s *Server) dispatch(c *serverCall, perr error) (resp runtime.Response) {
	if perr != nil {
		return runtime.ErrorResponse(perr)
	}
	req := &c.req
	ctx := c.ctx // carries the caller's deadline
	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-ctx.Done():
			return ctxResponse(ctx.Err())
		}
		// Time spent waiting for a slot counts against the deadline.
		if dl, ok := ctx.Deadline(); ok {
			if req.Timeout = time.Until(dl); req.Timeout <= 0 {
				return ctxResponse(context.DeadlineExceeded)
			}
		}
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("natsrpc: dispatcher panicked", "server", s.id, "route", req.Route, "panic", p, "stack", string(debug.Stack()))
			resp = runtime.Response{Code: runtime.Internal, Message: fmt.Sprintf("%s: dispatcher panicked: %v", req.Route, p)}
		}
	}()
	return s.d.Dispatch(ctx, req) // ctx carries the Peer
}

func ctxResponse(err error) runtime.Response {
	return runtime.ErrorResponse(runtime.ContextError(err))
}

// answer queues c's answer for publishing unless Close answered for it.
func (s *Server) answer(c *serverCall, resp *runtime.Response) {
	if len(resp.Payload) > s.maxPayload {
		resp = &runtime.Response{Code: runtime.ResourceExhausted,
			Message: fmt.Sprintf("natsrpc: result of %d bytes exceeds the limit of %d", len(resp.Payload), s.maxPayload)}
	}
	s.queue(c, resp)
}

// publish publishes resp to reply at once, bypassing the outbox: for
// answers that are not a call's result, and for Close's.
func (s *Server) publish(reply string, resp *runtime.Response) {
	bp := bufPool.Get().(*[]byte)
	b := runtime.AppendResponse(*bp, resp)
	s.send(reply, b)
	putBuf(bp, b)
}

// send publishes the response envelope b to reply. An envelope larger than
// the NATS server's max_payload is answered with ResourceExhausted instead,
// so that its caller learns why rather than waiting.
func (s *Server) send(reply string, b []byte) {
	err := s.nc.Publish(reply, b)
	if errors.Is(err, nats.ErrMaxPayload) {
		bp := bufPool.Get().(*[]byte)
		small := runtime.AppendResponse(*bp, &runtime.Response{Code: runtime.ResourceExhausted,
			Message: fmt.Sprintf("natsrpc: answer of %d bytes exceeds the NATS server's max_payload of %d", len(b), s.nc.MaxPayload())})
		err = s.nc.Publish(reply, small)
		putBuf(bp, small)
	}
	if err != nil {
		s.log.Debug("natsrpc: answer not sent", "server", s.id, "err", err)
	}
}

// Shutdown stops the server gracefully: calls that arrive from now on get
// Unavailable, calls in flight run to the end and their answers are sent.
// Then the server unsubscribes, so that calls to the id find no responders.
// When ctx ends first, Shutdown stops the rest as [Server.Close] does and
// returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return nil
	}
	s.state = draining
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
	s.mu.Lock()
	if s.state == stopped { // by a concurrent Close or Shutdown
		s.mu.Unlock()
		return nil
	}
	s.state = stopped
	s.mu.Unlock()
	s.out.stop() // every handler has returned: wait until their answers are published
	_ = s.sub.Unsubscribe()
	s.workers.Close()
	s.flush()
	return nil
}

// Close stops the server at once, as if its process died, except that the
// calls in flight are answered with Unavailable, as a dying process's TCP
// connections are reset: their callers learn at once, not at their
// deadline. Their handlers' contexts are cancelled, and whatever they return
// is dropped.
func (s *Server) Close() {
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return
	}
	s.state = stopped
	calls := s.calls
	s.calls = make(map[string]*serverCall)
	s.mu.Unlock()
	// Unsubscribe first: a caller that retries on Unavailable then finds
	// no responders rather than a dying server.
	_ = s.sub.Unsubscribe()
	s.workers.Close()
	// Answers already queued are published; the calls whose handlers are
	// still running are then claimed below, and answered Unavailable.
	s.out.stop()
	var gone *runtime.Response
	for _, c := range calls {
		// Claim the answer before cancelling: a handler that returns at
		// once on cancellation must not answer Canceled for a server that
		// is gone.
		claimed := c.answered.CompareAndSwap(false, true)
		c.ctx.Cancel()
		if claimed {
			if gone == nil {
				gone = &runtime.Response{Code: runtime.Unavailable, Message: fmt.Sprintf("natsrpc: server %q stopped", s.id)}
			}
			s.publish(c.reply, gone)
		}
	}
	s.flush()
}

func (s *Server) flush() {
	if s.nc.IsConnected() {
		if err := s.nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Debug("natsrpc: flush on stop", "server", s.id, "err", err)
		}
	}
}
