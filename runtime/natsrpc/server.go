package natsrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Server serves one server id on NATS: it hands each call that arrives on
// the id's subject to a [runtime.Server], whose one call path runs it (see
// [runtime.Endpoint]) on a goroutine of its own, and publishes the answer.
// [Serve] starts one.
//
// NATS has no connection per caller, so the limits are the server's: calls
// beyond the server's byte budget ([runtime.WithServerBudget]) are answered
// ResourceExhausted at once, without being decoded; handlers beyond
// [WithMaxConcurrentCalls] wait their turn; control messages are bounded in
// size and handled off the subscription, so that neither a flood of calls
// nor of control messages stalls the subscription.
type Server struct {
	nc            *nats.Conn
	id            string
	subject       string
	ep            *runtime.Endpoint
	budget        *runtime.Budget // the server's; answers in the outbox are charged here
	log           *slog.Logger
	maxPayload    int
	maxConcurrent int
	sub           *nats.Subscription // version 1: single calls
	sub2          *nats.Subscription // version 2: batches; nil when not served

	workers *runtime.Workers[*serverCall] // run calls on reused goroutines
	out     outbox                        // answers waiting to be published
	control chan *nats.Msg                // probes waiting to be answered
	loops   sync.WaitGroup                // the control goroutine

	mu    sync.Mutex // guards state, and orders it against the registry
	state serverState
	calls registry // by reply subject, until answered and published

	qmu     sync.Mutex // the calls waiting their turn
	running int
	waiting []*serverCall
	gone    bool // stopped: waiting calls never start
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
	key      callKey // its name, and its caller's address
	reply    string  // where its answer goes; empty for a call of a batch, answered in one
	call     runtime.Call
	ctx      context.Context // call's, kept to cancel it after call is cleared
	answered atomic.Bool
	peer     runtime.Peer
}

// pingTimeout bounds how long [Serve] waits to learn whether its id is taken.
const pingTimeout = 2 * time.Second

// flushTimeout bounds how long stopping waits for NATS to take the last
// answers and the unsubscription.
const flushTimeout = 2 * time.Second

// Control messages are small; bigger ones are dropped unanswered. A probe
// holds a reply subject per line for at most maxProbeBatch calls.
const (
	maxControlBody = 128 << 10
	controlQueue   = 64 // probes waiting to be answered; more are dropped
)

// DefaultMaxConcurrentCalls is how many handlers a [Server] runs at once
// unless [WithMaxConcurrentCalls] says otherwise.
const DefaultMaxConcurrentCalls = 4096

// Serve serves srv under serverID on nc until [Server.Shutdown] or
// [Server.Close], which release what it holds, or until nc closes. It fails
// if the id is invalid, if NATS denies nc's user subscribing to the id's
// subject, or if another server on the same NATS and prefix already serves
// it (checked with a ping; two servers starting at the same instant can
// both pass). nc may be the connection the process calls
// through too, unless it was made with nats.NoEcho, which would hide the
// process's calls to itself. Options: [WithSubjectPrefix],
// [WithMaxPayload], [WithMaxConcurrentCalls], [WithLogger].
func Serve(nc *nats.Conn, serverID string, srv *runtime.Server, opts ...ServerOption) (*Server, error) {
	o := newServerOptions(opts)
	if err := checkPrefix(o.prefix); err != nil {
		return nil, err
	}
	subject, err := callSubject(o.prefix, serverID)
	if err != nil {
		return nil, err
	}
	ep := srv.Endpoint()
	s := &Server{
		nc:            nc,
		id:            serverID,
		subject:       subject,
		ep:            ep,
		budget:        ep.NewBudget(0),
		log:           o.logger,
		maxPayload:    o.maxPayload,
		maxConcurrent: o.maxConcurrent,
		control:       make(chan *nats.Msg, controlQueue),
	}
	s.calls.init()
	s.out.init()
	s.workers = runtime.NewWorkers(maxIdleWorkers, s.run)
	if err := s.checkFree(); err != nil {
		return nil, err
	}
	s.loops.Add(1)
	go s.controlLoop()
	before := nc.LastError()
	s.sub, err = nc.Subscribe(subject, s.onMsg)
	if err != nil {
		s.stopControl()
		return nil, fmt.Errorf("natsrpc: serve %q: %w", serverID, err)
	}
	// Once the NATS server has the subscription, calls find it. NATS
	// reports a subscription it denies before it answers the flush.
	if nc.IsConnected() {
		if err := nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Warn("natsrpc: subscription not confirmed", "server", serverID, "err", err)
		} else if err, denied := deniedSince(nc, before, denySubscribe, subject); denied {
			_ = s.sub.Unsubscribe()
			s.stopControl()
			return nil, fmt.Errorf("natsrpc: serve %q: NATS denies this connection's user subscribing to %s: %w", serverID, subject, err)
		}
	}
	if o.wire >= batchVersion {
		watchDenials(nc, s, (*Server).onDenied)
		s.serveBatches(subject + v2Suffix)
	}
	return s, nil
}

// serveBatches subscribes to the batches of calls on subject. Batches are
// an addition: a server that may not subscribe to them serves its callers
// singly, as their transports find out.
func (s *Server) serveBatches(subject string) {
	before := s.nc.LastError()
	sub, err := s.nc.Subscribe(subject, s.onBatch)
	if err != nil {
		s.log.Warn("natsrpc: serving without batches", "server", s.id, "err", err)
		return
	}
	if s.nc.IsConnected() && s.nc.FlushTimeout(flushTimeout) == nil {
		if _, denied := deniedSince(s.nc, before, denySubscribe, subject); denied {
			s.log.Warn("natsrpc: serving without batches: NATS denies this connection's user subscribing to them", "server", s.id, "subject", subject)
			_ = sub.Unsubscribe()
			return
		}
	}
	s.mu.Lock()
	s.sub2 = sub
	s.mu.Unlock()
}

// unsubscribe ends the server's subscriptions.
func (s *Server) unsubscribe() {
	_ = s.sub.Unsubscribe()
	s.mu.Lock()
	sub2 := s.sub2
	s.mu.Unlock()
	if sub2 != nil {
		_ = sub2.Unsubscribe()
	}
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
// server's subject, in the order NATS delivers them. It never blocks, and
// its work is bounded whatever the message: parse the envelope, or hand a
// control message over.
func (s *Server) onMsg(m *nats.Msg) {
	if m.Header != nil {
		if kind := m.Header.Get(controlHeader); kind != "" {
			s.onControl(kind, m)
			return
		}
	}
	if m.Reply == "" {
		s.log.Debug("natsrpc: call without a reply subject dropped", "server", s.id)
		return
	}
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return // as dead
	}
	c := &serverCall{key: keyOf(m.Reply), reply: m.Reply}
	resp, ok := s.begin(c, m.Data)
	s.mu.Unlock()
	if ok {
		s.start(c)
	} else if resp != nil {
		s.publish(m.Reply, resp)
	}
}

// begin begins call c, of envelope env, and lists it. It reports false for
// a call that will not run: with the answer to send at once (malformed,
// over budget, shutting down), or with none when a call of the same name
// runs, which only a broken or hostile caller sends. Under s.mu, so that
// Close finds every call begun.
func (s *Server) begin(c *serverCall, env []byte) (*runtime.Response, bool) {
	if s.calls.get(c.key) != nil {
		s.log.Warn("natsrpc: call with a name in use dropped", "server", s.id, "name", c.key.String())
		return nil, false
	}
	c.peer.Addr = &c.key
	if resp, ok := s.ep.Begin(&c.call, env, &c.peer, s.budget); !ok {
		return &resp, false
	}
	c.ctx = c.call.Context()
	s.calls.putNew(c)
	return nil, true
}

// start runs c on a worker, or queues it behind the handlers running.
func (s *Server) start(c *serverCall) {
	s.qmu.Lock()
	if s.running < s.maxConcurrent {
		s.running++
		s.qmu.Unlock()
		s.workers.Go(c)
		return
	}
	s.waiting = append(s.waiting, c)
	s.qmu.Unlock()
}

// onBatch runs on the batch subscription's goroutine for every message to
// the server's v2 subject: a batch of calls, each begun as a call of its
// own, or a control message for one of them. Like onMsg it never blocks,
// and its work is bounded by maxServedBatch calls.
func (s *Server) onBatch(m *nats.Msg) {
	if m.Header != nil {
		if kind := m.Header.Get(controlHeader); kind != "" {
			s.onControl(kind, m)
			return
		}
	}
	inbox, ok := inboxOf(m.Reply)
	if !ok || len(m.Data) == 0 || m.Data[0] != batchVersion {
		s.log.Debug("natsrpc: malformed batch dropped", "server", s.id, "reply", m.Reply)
		return
	}
	body := m.Data[1:]
	n := 0
	for rest := body; len(rest) > 0; n++ {
		var ok bool
		if _, _, rest, ok = nextEntry(rest); !ok || n == maxServedBatch {
			s.log.Debug("natsrpc: malformed or oversized batch dropped", "server", s.id, "reply", m.Reply)
			return
		}
	}
	var refused []byte // a batch of answers to the calls that will not run
	var start []*serverCall
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return // as dead
	}
	for rest := body; len(rest) > 0; {
		id, env, next, _ := nextEntry(rest)
		rest = next
		c := &serverCall{key: callKey{inbox: inbox, id: id}}
		resp, ok := s.begin(c, env)
		if ok {
			start = append(start, c)
			continue
		}
		if resp != nil {
			if refused == nil {
				refused = append(make([]byte, 0, 256), batchVersion)
			}
			at := len(refused)
			refused = runtime.AppendResponse(appendEntryHeader(refused, id, 0), resp)
			setEntryLen(refused, at, id)
		}
	}
	s.mu.Unlock()
	for _, c := range start {
		s.start(c)
	}
	if refused != nil {
		s.send(inbox+answerToken, refused)
	}
}

// maxIdleWorkers bounds the workers kept waiting for calls after a burst.
const maxIdleWorkers = 256

// onControl handles a control message on the subscription's goroutine: a
// cancel at once, as it costs one lookup; a probe, whose cost grows with its
// size, on the control goroutine, if there is room in its queue.
func (s *Server) onControl(kind string, m *nats.Msg) {
	if len(m.Data) > maxControlBody {
		s.log.Debug("natsrpc: oversized control message dropped", "server", s.id, "kind", kind, "bytes", len(m.Data))
		return
	}
	switch kind {
	case controlCancel:
		s.calls.cancel(keyOf(string(m.Data)))
	case controlProbe:
		if m.Reply == "" || !wellFormedProbe(m.Data) {
			s.log.Debug("natsrpc: malformed probe dropped", "server", s.id, "bytes", len(m.Data))
			return
		}
		select {
		case s.control <- m:
		default:
			s.log.Debug("natsrpc: probe dropped: too many waiting", "server", s.id)
		}
	case controlHello:
		if m.Sub == nil || m.Sub.Subject == s.subject || len(m.Data) != 0 {
			return // hellos come on the v2 subject, empty
		}
		select {
		case s.control <- m:
		default:
			s.log.Debug("natsrpc: hello dropped: too many waiting", "server", s.id)
		}
	}
}

// hello answers a transport's hello (see batch.go): a batch of answers to
// its inbox, with one empty entry under the hello's id, so that the
// transport learns that this server takes batches and that its answers
// reach the transport's inbox.
func (s *Server) hello(m *nats.Msg) {
	k := keyOf(m.Reply)
	if k.id == 0 {
		return
	}
	b := appendEntryHeader([]byte{batchVersion}, k.id, 0)
	if err := s.nc.Publish(k.inbox+answerToken, b); err != nil {
		s.log.Debug("natsrpc: hello not answered", "server", s.id, "err", err)
	}
}

// onDenied stops serving batches when NATS denies the server publishing a
// batch of answers (to a subject ending in "._"): its user may answer only
// to reply subjects, and callers' transports, whose hellos then go
// unanswered or find nobody, call it singly.
func (s *Server) onDenied(err error) {
	verb, subject, ok := deniedSubject(err)
	if !ok || verb != denyPublish || !strings.HasSuffix(subject, "."+answerToken) {
		return
	}
	s.mu.Lock()
	sub2 := s.sub2
	s.sub2 = nil
	s.mu.Unlock()
	if sub2 != nil {
		s.log.Warn("natsrpc: serving without batches: NATS denies this connection's user publishing batches of answers; allow it to publish to its callers' inboxes to serve batches", "server", s.id, "subject", subject)
		_ = sub2.Unsubscribe()
	}
}

// wellFormedProbe reports whether body could come from a [Transport]: at
// most maxProbeBatch lines, none empty. Checking costs a fast scan of the
// body on the subscription's goroutine; answering a probe that fails it
// would cost a lookup per line for nothing.
func wellFormedProbe(body []byte) bool {
	if len(body) == 0 {
		return true // a ping
	}
	return body[0] != '\n' && body[len(body)-1] != '\n' &&
		bytes.Count(body, []byte{'\n'}) < maxProbeBatch && !bytes.Contains(body, []byte("\n\n"))
}

// maxProbeLinesPerSecond bounds the lookups a server makes to answer
// probes: a few milliseconds of one core a second. Transports probe only
// calls that have waited a whole probe interval, so that legitimate probes
// stay far below it; a flood of probes beyond it is dropped.
const maxProbeLinesPerSecond = 100_000

// controlLoop answers probes and hellos until the server stops, within
// maxProbeLinesPerSecond.
func (s *Server) controlLoop() {
	defer s.loops.Done()
	var window time.Time
	lines := 0
	for m := range s.control {
		if now := time.Now(); now.Sub(window) >= time.Second {
			window, lines = now, 0
		}
		hello := m.Header.Get(controlHeader) == controlHello
		n := 1 // a hello counts as a probe of one call
		if !hello {
			n = bytes.Count(m.Data, []byte{'\n'}) + 1
		}
		if lines+n > maxProbeLinesPerSecond {
			s.log.Debug("natsrpc: control message dropped: too many this second", "server", s.id)
			continue
		}
		lines += n
		if hello {
			s.hello(m)
		} else {
			s.probe(m)
		}
	}
}

func (s *Server) stopControl() {
	close(s.control)
	s.loops.Wait()
}

// probe answers a probe: one byte per line of its body, with no lock held
// for longer than one lookup.
func (s *Server) probe(m *nats.Msg) {
	var out []byte
	if len(m.Data) > 0 {
		out = make([]byte, 0, bytes.Count(m.Data, []byte{'\n'})+1)
		for line := range bytes.SplitSeq(m.Data, []byte{'\n'}) {
			if s.calls.has(string(line)) {
				out = append(out, probeRunning)
			} else {
				out = append(out, probeUnknown)
			}
		}
	}
	if err := s.nc.Publish(m.Reply, out); err != nil {
		s.log.Debug("natsrpc: probe answer not sent", "server", s.id, "err", err)
	}
}

// run runs calls on a worker: c, then the calls that waited their turn
// while it ran. A call stays in s.calls until its answer is published (see
// [Server.publishQueued]).
func (s *Server) run(c *serverCall) {
	for c != nil {
		resp := s.ep.Serve(&c.call)
		s.answer(c, &resp)
		s.ep.Done(&c.call)
		c = s.next()
	}
}

// next returns the call waiting longest, or nil, and then counts one handler
// fewer.
func (s *Server) next() *serverCall {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.waiting) == 0 || s.gone {
		s.running--
		return nil
	}
	c := s.waiting[0]
	s.waiting[0] = nil
	s.waiting = s.waiting[1:]
	if len(s.waiting) == 0 {
		s.waiting = nil
	}
	return c
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

// publishTo publishes resp to c's caller at once, bypassing the outbox: a
// batch of one for a call that came in a batch.
func (s *Server) publishTo(c *serverCall, resp *runtime.Response) {
	if c.reply != "" {
		s.publish(c.reply, resp)
		return
	}
	bp := bufPool.Get().(*[]byte)
	b := append(*bp, batchVersion)
	b = runtime.AppendResponse(appendEntryHeader(b, c.key.id, 0), resp)
	setEntryLen(b, 1, c.key.id)
	s.send(c.key.inbox+answerToken, b)
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
// [runtime.ErrShuttingDown] (Unavailable), calls in flight run to the end and
// their answers are sent. Then the server unsubscribes, so that calls to the
// id find no responders. When ctx ends first, Shutdown stops the rest as
// [Server.Close] does and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return nil
	}
	s.state = draining
	s.mu.Unlock()
	if err := s.ep.Shutdown(ctx); err != nil {
		s.Close()
		return err
	}
	s.mu.Lock()
	if s.state == stopped { // by a concurrent Close or Shutdown
		s.mu.Unlock()
		return nil
	}
	s.state = stopped
	s.mu.Unlock()
	s.out.stop() // every handler has returned: wait until their answers are published
	s.unsubscribe()
	s.workers.Close()
	s.stopControl()
	s.flush()
	return nil
}

// Close stops the server at once, as if its process died, except that the
// calls in flight are answered with Unavailable, as a dying process's TCP
// connections are reset: their callers learn at once, not at their
// deadline. Their handlers' contexts are cancelled, whatever they return is
// dropped, and calls waiting their turn never start. Close returns once the
// handlers have returned, leaving no goroutine behind, or after
// [runtime.CloseGrace] if some handler ignores its context's end (it is
// logged, and left to finish on its own).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.state == stopped {
		s.mu.Unlock()
		return nil
	}
	s.state = stopped
	calls := s.calls.takeAll()
	s.mu.Unlock()
	s.ep.Close()
	// Waiting calls are taken first, so that a handler that returns
	// meanwhile starts none of them.
	waiting := s.takeWaiting()
	// Unsubscribe first: a caller that retries on Unavailable then finds
	// no responders rather than a dying server.
	s.unsubscribe()
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
		c.ctx.(interface{ Cancel() }).Cancel()
		if claimed {
			if gone == nil {
				gone = &runtime.Response{Code: runtime.Unavailable, Message: fmt.Sprintf("natsrpc: server %q stopped", s.id)}
			}
			s.publishTo(c, gone)
		}
	}
	s.flush()
	for _, c := range waiting {
		s.ep.Done(&c.call)
	}
	if left := s.ep.Abort(runtime.CloseGrace); left > 0 {
		s.log.Warn("natsrpc: closed with handlers still running; they ignore their context's end", "server", s.id, "handlers", left)
	}
	s.stopControl()
	return nil
}

// takeWaiting marks the server gone and returns the calls waiting their
// turn: they never start.
func (s *Server) takeWaiting() []*serverCall {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.gone = true
	waiting := s.waiting
	s.waiting = nil
	return waiting
}

func (s *Server) flush() {
	if s.nc.IsConnected() {
		if err := s.nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Debug("natsrpc: flush on stop", "server", s.id, "err", err)
		}
	}
}
