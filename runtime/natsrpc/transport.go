package natsrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Transport is the [runtime.Transport] that sends calls as NATS requests:
// the client side of natsrpc. Make one per *nats.Conn and share it; it is
// safe for concurrent use. Its answer subscription starts with the first
// call and ends with [Transport.Close] or when the connection closes.
type Transport struct {
	nc         *nats.Conn
	prefix     string
	prefixErr  error // non-nil when the prefix option is invalid
	maxPayload int
	probeEvery time.Duration
	log        *slog.Logger
	inbox      string // reply subjects are inbox + call id in base 36; ends in '.'
	wire       int    // the newest wire version to speak

	nextID atomic.Uint64
	loops  sync.WaitGroup // the probe loop

	subjectsMu sync.RWMutex
	subjects   map[string]*target // by server id; see targetOf

	mu     sync.Mutex
	sub    *nats.Subscription // answers; nil until the first call and after it is lost
	stop   chan struct{}      // closed when sub is lost, ending its probe loop
	calls  map[uint64]*call   // calls and probes awaiting an answer, by id
	epoch  uint64             // probe ticks so far
	closed bool
}

// call is one call, one probe or one batch of calls, awaiting its answer.
// Whoever removes it from Transport.calls owns it: only they send on done,
// exactly once.
type call struct {
	reply    string // version 1: its reply subject; empty for a call sent in a batch
	subject  string // where it was sent, and its control messages go
	serverID string
	tg       *target
	epoch    uint64      // Transport.epoch when it was sent
	probe    []uint64    // for a probe: the ids of the calls it asks about
	done     chan answer // capacity 1

	// A call sent in a batch points to the batch's record, which lists the
	// calls (batch, set for a record only) and counts those still waiting
	// (pending): the record goes when they have all gone.
	in      *call
	id      uint64 // a record's own id
	batch   []uint64
	pending int
	hello   bool // the record of a hello (see batch.go)
	// sent is set, under Transport.mu, once the batch that carries the call
	// is published: a caller giving up before that leaves its cancel to
	// the publisher, so that the cancel follows the call.
	sent bool
}

// isCall reports whether c is a call, not a probe or the record of a batch
// or of a hello.
func (c *call) isCall() bool { return c.probe == nil && c.batch == nil && !c.hello }

// answer is how a call ends: with the response envelope env, with NATS's
// "no responders", with err, or with resend: sent in a batch that nobody
// took, it is to be sent again singly.
type answer struct {
	env          []byte
	noResponders bool
	err          error
	resend       bool
}

// target is a server id as a transport calls it.
type target struct {
	serverID string
	subject  string // version 1
	subject2 string // version 2: batches
	// ready is set once the server answered a hello: it takes batches,
	// and its answers reach this transport. singleUntil is the mono time
	// until which calls go singly all the same: NATS said nobody takes
	// batches on subject2, denied publishing to it, or the hello went
	// unanswered. helloAt is when the hello in flight, helloID, was sent.
	ready       atomic.Bool
	singleUntil atomic.Int64
	helloAt     atomic.Int64
	helloID     atomic.Uint64
	out         sender
}

// singleFor is how long a transport sends a server's calls singly after
// its batches or its hello found nobody: an old server is upgraded now and
// then. helloTimeout is how long a hello may go unanswered.
const (
	singleFor    = 30 * time.Second
	helloTimeout = 2 * time.Second
)

// batching reports whether a call to tg goes in a batch. Until the server
// has answered a hello, calls go singly, and the first asks.
func (t *Transport) batching(tg *target) bool {
	if t.wire < batchVersion {
		return false
	}
	now := mono()
	if tg.singleUntil.Load() > now {
		return false
	}
	if tg.ready.Load() {
		return true
	}
	switch h := tg.helloAt.Load(); {
	case h == 0:
		if tg.helloAt.CompareAndSwap(0, now) {
			t.sendHello(tg)
		}
	case now-h > int64(helloTimeout):
		// The server's answers do not reach this transport's inbox.
		if tg.helloAt.CompareAndSwap(h, 0) {
			t.mu.Lock()
			if c := t.calls[tg.helloID.Load()]; c != nil && c.hello {
				delete(t.calls, c.id)
			}
			t.mu.Unlock()
			tg.singleUntil.Store(now + int64(singleFor))
		}
	}
	return false
}

// sendHello asks tg's server whether it takes batches (see batch.go).
func (t *Transport) sendHello(tg *target) {
	id := t.nextID.Add(1)
	rec := &call{id: id, tg: tg, serverID: tg.serverID, subject: tg.subject2, hello: true}
	tg.helloID.Store(id)
	if err := t.register(id, rec); err != nil {
		tg.helloAt.Store(0)
		return
	}
	var scratch [96]byte
	reply := string(strconv.AppendUint(append(scratch[:0], t.inbox...), id, 36))
	if err := t.nc.PublishMsg(controlMsg(tg.subject2, reply, controlHello, nil)); err != nil {
		t.forget(id)
		tg.helloAt.Store(0)
		tg.singleUntil.Store(mono() + int64(singleFor))
	}
}

// helloLocked handles what came for hello record rec: an answer batch's
// entry (ok), or NATS's "no responders".
func (t *Transport) helloLocked(rec *call, ok bool) {
	delete(t.calls, rec.id)
	tg := rec.tg
	if !tg.helloAt.CompareAndSwap(tg.helloAt.Load(), 0) {
		return
	}
	if ok {
		tg.ready.Store(true)
	} else {
		tg.singleUntil.Store(mono() + int64(singleFor))
	}
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan answer, 1)} }}

// bufPool holds envelope buffers; a buffer grown past maxPooledBuf is
// dropped rather than kept alive for the next small call.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuf = 64 << 10

func putBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		bufPool.Put(bp)
	}
}

// maxProbeBatch bounds the calls one probe message asks about, so that a
// probe stays far below any NATS max_payload.
const maxProbeBatch = 1000

var (
	errConnClosed      = runtime.NewError(runtime.Unavailable, "natsrpc: NATS connection closed")
	errTransportClosed = runtime.NewError(runtime.Unavailable, "natsrpc: transport closed")
)

// NewTransport returns a transport that calls servers through nc. Options:
// [WithSubjectPrefix], [WithMaxPayload], [WithProbeInterval], [WithLogger].
// An invalid prefix makes every call fail with InvalidArgument.
//
// The transport chains itself in front of nc's error handler, which still
// gets every error, to learn of the calls NATS refuses for want of
// permission (see Security in the package documentation). Set a handler of
// your own with nats.ErrorHandler when connecting, or before NewTransport:
// one set afterwards with SetErrorHandler unhooks the transport, and such
// calls then wait for their deadline.
func NewTransport(nc *nats.Conn, opts ...TransportOption) *Transport {
	o := newTransportOptions(opts)
	t := &Transport{
		nc:         nc,
		prefix:     o.prefix,
		prefixErr:  checkPrefix(o.prefix),
		maxPayload: o.maxPayload,
		probeEvery: o.probeInterval,
		log:        o.logger,
		inbox:      nc.NewInbox() + ".",
		wire:       o.wire,
		calls:      make(map[uint64]*call),
		subjects:   make(map[string]*target),
	}
	t.watchDenials()
	return t
}

// RoundTrip implements [runtime.Transport]: it publishes req to serverID's
// subject, in a batch with other calls to the same server when there are
// some, and waits for the answer, ctx's end, or news that the server is
// gone. It starts no goroutine.
func (t *Transport) RoundTrip(ctx context.Context, serverID string, req *runtime.Request) (runtime.Response, error) {
	if t.prefixErr != nil {
		return runtime.Response{}, t.prefixErr
	}
	if len(req.Payload) > t.maxPayload {
		return runtime.Response{}, runtime.Errorf(runtime.ResourceExhausted,
			"natsrpc: payload of %d bytes exceeds the limit of %d", len(req.Payload), t.maxPayload)
	}
	tg, err := t.targetOf(serverID)
	if err != nil {
		return runtime.Response{}, err
	}
	batched := t.batching(tg)
	for {
		if err := ctx.Err(); err != nil {
			return runtime.Response{}, runtime.ContextError(err)
		}
		resp, err, resend := t.roundTrip(ctx, serverID, tg, req, batched)
		if !resend {
			return resp, err
		}
		batched = false
	}
}

// roundTrip makes one attempt at a call: resend reports that it went in a
// batch nobody took, and must go again singly.
func (t *Transport) roundTrip(ctx context.Context, serverID string, tg *target, req *runtime.Request, batched bool) (resp runtime.Response, err error, resend bool) {
	c := callPool.Get().(*call)
	id := t.nextID.Add(1)
	c.serverID, c.tg = serverID, tg
	if batched {
		c.subject = tg.subject2
	} else {
		var scratch [96]byte
		c.reply = string(strconv.AppendUint(append(scratch[:0], t.inbox...), id, 36))
		c.subject = tg.subject
	}
	if err := t.register(id, c); err != nil {
		release(c)
		return runtime.Response{}, err, false
	}

	if batched {
		t.sendBatched(tg, id, req)
	} else {
		bp := bufPool.Get().(*[]byte)
		buf := runtime.AppendRequest(*bp, req)
		size := len(buf)
		err = t.nc.PublishRequest(c.subject, c.reply, buf)
		putBuf(bp, buf)
		if err != nil {
			err = t.publishError(err, serverID, size)
		}
	}
	if err != nil {
		if !t.forget(id) {
			<-c.done // lost with the connection meanwhile; the publish error says more
		}
		release(c)
		return runtime.Response{}, err, false
	}

	select {
	case a := <-c.done:
		release(c)
		resp, err = answerOf(serverID, a)
		return resp, err, a.resend
	case <-ctx.Done():
	}
	listed, sent := t.forgetSent(id, c)
	if !listed {
		// The answer raced the caller's deadline: it still counts.
		a := <-c.done
		release(c)
		resp, err = answerOf(serverID, a)
		if a.resend {
			return runtime.Response{}, runtime.ContextError(ctx.Err()), false
		}
		return resp, err, false
	}
	subject, name := c.subject, t.nameOf(id, c)
	release(c)
	err = ctx.Err()
	if err != context.DeadlineExceeded && sent {
		// The deadline travelled with the call and ends the handler by
		// itself; a cancellation must be told, on the subject the call
		// went to, so that it arrives after the call.
		if perr := t.nc.PublishMsg(controlMsg(subject, "", controlCancel, []byte(name))); perr != nil {
			t.log.Debug("natsrpc: cancel not sent", "server", serverID, "err", perr)
		}
	}
	return runtime.Response{}, runtime.ContextError(err), false
}

// nameOf returns the name of call id, c, as its server knows it: its reply
// subject, or for a call sent in a batch the one it would have had.
func (t *Transport) nameOf(id uint64, c *call) string {
	if c.reply != "" {
		return c.reply
	}
	return t.inbox + strconv.FormatUint(id, 36)
}

// maxCachedSubjects bounds the servers a transport keeps the subjects (and
// the batching state) of, so that a process calling ever new server ids
// does not grow it without end; the calls to the ids beyond are sent singly,
// with subjects built on every call.
const maxCachedSubjects = 1024

// targetOf returns serverID as t calls it. A process calls the same few
// servers over and over, and building the subjects anew cost an
// allocation per call, so they are kept, with the batch being gathered for
// each.
func (t *Transport) targetOf(serverID string) (*target, error) {
	t.subjectsMu.RLock()
	tg, ok := t.subjects[serverID]
	t.subjectsMu.RUnlock()
	if ok {
		return tg, nil
	}
	subject, err := callSubject(t.prefix, serverID)
	if err != nil {
		return nil, err
	}
	tg = &target{serverID: serverID, subject: subject, subject2: subject + v2Suffix}
	tg.out.init(t, tg)
	t.subjectsMu.Lock()
	defer t.subjectsMu.Unlock()
	if old, ok := t.subjects[serverID]; ok {
		return old, nil
	}
	if len(t.subjects) < maxCachedSubjects {
		t.subjects[serverID] = tg
	} else {
		tg.singleUntil.Store(math.MaxInt64) // not shared: no batch to join
	}
	return tg, nil
}

// subjectOf returns the subject of serverID's calls.
func (t *Transport) subjectOf(serverID string) (string, error) {
	tg, err := t.targetOf(serverID)
	if err != nil {
		return "", err
	}
	return tg.subject, nil
}

// register lists c under id, starting the answer subscription if need be.
func (t *Transport) register(id uint64, c *call) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sub == nil {
		if err := t.startLocked(); err != nil {
			return err
		}
	}
	c.epoch = t.epoch
	t.calls[id] = c
	return nil
}

// forget removes call id and reports whether it was still listed; when it
// was not, its answer is on its way to c.done.
func (t *Transport) forget(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.calls[id]
	if ok {
		t.dropLocked(id, c)
	}
	return ok
}

// forgetSent is forget for call id, c, that also reports whether c was
// sent: a single call always is; a call still waiting for its batch is not.
func (t *Transport) forgetSent(id uint64, c *call) (listed, sent bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sent = c.reply != "" || c.sent
	if _, listed = t.calls[id]; listed {
		t.dropLocked(id, c)
	}
	return listed, sent
}

// dropLocked removes call id, c, from t.calls, and its batch's record once
// no call of the batch waits any more.
func (t *Transport) dropLocked(id uint64, c *call) {
	delete(t.calls, id)
	if rec := c.in; rec != nil {
		c.in = nil
		if rec.pending--; rec.pending == 0 && t.calls[rec.id] == rec {
			delete(t.calls, rec.id)
		}
	}
}

func release(c *call) {
	c.reply, c.subject, c.serverID, c.tg, c.in, c.sent = "", "", "", nil, nil, false
	callPool.Put(c)
}

func (t *Transport) startLocked() error {
	if t.closed {
		return errTransportClosed
	}
	sub, err := t.nc.Subscribe(t.inbox+"*", t.onAnswer)
	if err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return errConnClosed
		}
		return runtime.Errorf(runtime.Unavailable, "natsrpc: subscribe to answers: %v", err)
	}
	// Called when the subscription ends: by Close, or because the
	// connection closed, which fails every call in flight at once.
	sub.SetClosedHandler(func(string) { t.lose(sub) })
	if !sub.IsValid() {
		_ = sub.Unsubscribe()
		return errConnClosed
	}
	t.sub, t.stop = sub, make(chan struct{})
	if t.probeEvery > 0 {
		t.loops.Add(1)
		go t.probeLoop(sub, t.stop)
	}
	return nil
}

// lose ends sub, if it is still the answer subscription, failing every call
// in flight with Unavailable.
func (t *Transport) lose(sub *nats.Subscription) { t.loseWith(sub, nil) }

// loseWith is lose, failing the calls with err instead when it is not nil.
func (t *Transport) loseWith(sub *nats.Subscription, err error) {
	t.mu.Lock()
	if t.sub != sub {
		t.mu.Unlock()
		return
	}
	t.sub = nil
	close(t.stop)
	lost := t.calls
	t.calls = make(map[uint64]*call)
	switch {
	case t.closed:
		err = errTransportClosed
	case err == nil:
		err = errConnClosed
	}
	t.mu.Unlock()
	for _, c := range lost {
		if c.isCall() {
			c.done <- answer{err: err}
		}
	}
}

// Close ends the transport's answer subscription and its probing; calls in
// flight and later calls fail with Unavailable. Closing the *nats.Conn has
// the same effect. Close does not close the connection.
func (t *Transport) Close() {
	t.mu.Lock()
	t.closed = true
	sub := t.sub
	t.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
		t.lose(sub)
	}
	t.loops.Wait()
}

// onAnswer runs on the answer subscription's goroutine for every answer: a
// batch of answers, or the answer to one call, probe or batch of calls.
func (t *Transport) onAnswer(m *nats.Msg) {
	rest, ok := strings.CutPrefix(m.Subject, t.inbox)
	if !ok {
		return
	}
	if rest == answerToken {
		t.onAnswers(m.Data)
		return
	}
	id, err := strconv.ParseUint(rest, 36, 64)
	if err != nil {
		return
	}
	t.mu.Lock()
	c := t.calls[id]
	if c == nil {
		t.mu.Unlock()
		return // its caller gave up
	}
	switch {
	case c.batch != nil:
		// Only NATS answers a batch's own subject: nobody serves
		// batches there. Its calls go again, singly.
		delete(t.calls, id)
		if isNoResponders(m) {
			t.resendLocked(c)
		}
		t.mu.Unlock()
	case c.hello:
		if isNoResponders(m) {
			t.helloLocked(c, false)
		}
		t.mu.Unlock()
	case c.probe == nil:
		t.dropLocked(id, c)
		t.mu.Unlock()
		c.done <- answer{env: m.Data, noResponders: isNoResponders(m)}
	default:
		delete(t.calls, id)
		lost := t.judgeLocked(c, m)
		t.mu.Unlock()
		for _, l := range lost {
			l.c.done <- answer{err: l.err}
		}
	}
}

// onAnswers hands out a batch of answers.
func (t *Transport) onAnswers(data []byte) {
	if len(data) == 0 || data[0] != batchVersion {
		t.log.Warn("natsrpc: malformed batch of answers dropped", "bytes", len(data))
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for rest := data[1:]; len(rest) > 0; {
		id, env, next, ok := nextEntry(rest)
		if !ok {
			t.log.Warn("natsrpc: malformed batch of answers cut short", "bytes", len(data))
			return
		}
		rest = next
		switch c := t.calls[id]; {
		case c == nil:
		case c.isCall():
			t.dropLocked(id, c)
			c.done <- answer{env: env} // capacity 1: never blocks
		case c.hello:
			t.helloLocked(c, true)
		}
	}
}

// resendLocked makes the calls of batch rec that still wait go again
// singly, and the calls to rec's server go singly for a while.
func (t *Transport) resendLocked(rec *call) {
	rec.tg.ready.Store(false)
	rec.tg.singleUntil.Store(mono() + int64(singleFor))
	for _, id := range rec.batch {
		if c := t.calls[id]; c != nil && c.in == rec {
			c.in = nil
			delete(t.calls, id)
			c.done <- answer{resend: true}
		}
	}
}

type lostCall struct {
	c   *call
	err error
}

// judgeLocked takes the calls that probe p's answer m shows lost out of
// t.calls.
func (t *Transport) judgeLocked(p *call, m *nats.Msg) []lostCall {
	gone := isNoResponders(m)
	if !gone && len(m.Data) != len(p.probe) {
		t.log.Warn("natsrpc: malformed probe answer", "server", p.serverID, "calls", len(p.probe), "answers", len(m.Data))
		return nil
	}
	var lost []lostCall
	for i, id := range p.probe {
		if !gone && m.Data[i] != probeUnknown {
			continue
		}
		c := t.calls[id]
		if c == nil {
			continue
		}
		t.dropLocked(id, c)
		var err error
		if gone {
			err = runtime.Errorf(runtime.Unavailable, "natsrpc: server %q is gone (no responders)", p.serverID)
		} else {
			err = runtime.Errorf(runtime.Unavailable, "natsrpc: server %q lost the call (it restarted, or the answer was lost)", p.serverID)
		}
		lost = append(lost, lostCall{c, err})
	}
	return lost
}

func (t *Transport) probeLoop(sub *nats.Subscription, stop <-chan struct{}) {
	defer t.loops.Done()
	tick := time.NewTicker(t.probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if t.nc.IsClosed() {
			// In case the subscription's closed handler was set too
			// late to run.
			t.lose(sub)
			return
		}
		for _, m := range t.probes() {
			if err := t.nc.PublishMsg(m); err != nil {
				t.log.Debug("natsrpc: probe not sent", "subject", m.Subject, "err", err)
			}
		}
	}
}

// probes lists a probe for every server with calls that have waited at
// least one full probe interval, and drops probes that went unanswered for
// as long.
func (t *Transport) probes() []*nats.Msg {
	type batch struct {
		serverID string
		ids      []uint64
		body     []byte
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.epoch++
	var batches map[string][]*batch
	for id, c := range t.calls {
		if c.epoch+1 >= t.epoch || c.batch != nil || c.hello {
			continue
		}
		if c.probe != nil {
			delete(t.calls, id)
			continue
		}
		if batches == nil {
			batches = make(map[string][]*batch)
		}
		bs := batches[c.subject]
		if len(bs) == 0 || len(bs[len(bs)-1].ids) == maxProbeBatch {
			bs = append(bs, &batch{serverID: c.serverID})
			batches[c.subject] = bs
		}
		b := bs[len(bs)-1]
		b.ids = append(b.ids, id)
		b.body = append(append(b.body, t.nameOf(id, c)...), '\n')
	}
	var msgs []*nats.Msg
	for subject, bs := range batches {
		for _, b := range bs {
			id := t.nextID.Add(1)
			p := &call{reply: t.inbox + strconv.FormatUint(id, 36), subject: subject, serverID: b.serverID, epoch: t.epoch, probe: b.ids}
			t.calls[id] = p
			msgs = append(msgs, controlMsg(subject, p.reply, controlProbe, b.body[:len(b.body)-1]))
		}
	}
	return msgs
}

func (t *Transport) publishError(err error, serverID string, size int) error {
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return runtime.Errorf(runtime.ResourceExhausted,
			"natsrpc: call of %d bytes exceeds the NATS server's max_payload of %d", size, t.nc.MaxPayload())
	case errors.Is(err, nats.ErrConnectionClosed):
		return errConnClosed
	case errors.Is(err, nats.ErrReconnectBufExceeded):
		return runtime.Errorf(runtime.Unavailable, "natsrpc: NATS disconnected and its reconnect buffer is full")
	}
	return runtime.Errorf(runtime.Unavailable, "natsrpc: send to %q: %v", serverID, err)
}

func answerOf(serverID string, a answer) (runtime.Response, error) {
	if a.err != nil || a.resend {
		return runtime.Response{}, a.err
	}
	if a.noResponders {
		return runtime.Response{}, fmt.Errorf("%w: natsrpc: no server %q (no responders)", runtime.ErrNotDelivered, serverID)
	}
	resp, err := runtime.ParseResponse(a.env)
	if err != nil {
		return runtime.Response{}, runtime.Errorf(runtime.Internal, "natsrpc: malformed answer from %q: %v", serverID, err)
	}
	return resp, nil
}
