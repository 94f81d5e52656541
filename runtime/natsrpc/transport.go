package natsrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	nextID atomic.Uint64
	loops  sync.WaitGroup // the probe loop

	subjectsMu sync.RWMutex
	subjects   map[string]string // call subjects by server id; see subjectOf

	mu     sync.Mutex
	sub    *nats.Subscription // answers; nil until the first call and after it is lost
	stop   chan struct{}      // closed when sub is lost, ending its probe loop
	calls  map[uint64]*call   // calls and probes awaiting an answer, by id
	epoch  uint64             // probe ticks so far
	closed bool
}

// call is one call, or one probe, awaiting its answer. Whoever removes it
// from Transport.calls owns it: only they send on done, exactly once.
type call struct {
	reply    string
	subject  string
	serverID string
	epoch    uint64      // Transport.epoch when it was sent
	probe    []uint64    // for a probe: the ids of the calls it asks about
	done     chan answer // capacity 1
}

type answer struct {
	msg *nats.Msg
	err error
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
		calls:      make(map[uint64]*call),
		subjects:   make(map[string]string),
	}
	t.watchDenials()
	return t
}

// RoundTrip implements [runtime.Transport]: it publishes req to serverID's
// subject and waits for the answer, ctx's end, or news that the server is
// gone. It starts no goroutine.
func (t *Transport) RoundTrip(ctx context.Context, serverID string, req *runtime.Request) (runtime.Response, error) {
	if t.prefixErr != nil {
		return runtime.Response{}, t.prefixErr
	}
	if len(req.Payload) > t.maxPayload {
		return runtime.Response{}, runtime.Errorf(runtime.ResourceExhausted,
			"natsrpc: payload of %d bytes exceeds the limit of %d", len(req.Payload), t.maxPayload)
	}
	subject, err := t.subjectOf(serverID)
	if err != nil {
		return runtime.Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return runtime.Response{}, runtime.ContextError(err)
	}

	c := callPool.Get().(*call)
	id := t.nextID.Add(1)
	var scratch [96]byte
	c.reply = string(strconv.AppendUint(append(scratch[:0], t.inbox...), id, 36))
	c.subject, c.serverID = subject, serverID
	if err := t.register(id, c); err != nil {
		release(c)
		return runtime.Response{}, err
	}

	bp := bufPool.Get().(*[]byte)
	buf := runtime.AppendRequest(*bp, req)
	size := len(buf)
	err = t.nc.PublishRequest(subject, c.reply, buf)
	putBuf(bp, buf)
	if err != nil {
		if !t.forget(id) {
			<-c.done // lost with the connection meanwhile; the publish error says more
		}
		release(c)
		return runtime.Response{}, t.publishError(err, serverID, size)
	}

	select {
	case a := <-c.done:
		release(c)
		return answerOf(serverID, a)
	case <-ctx.Done():
	}
	if !t.forget(id) {
		// The answer raced the caller's deadline: it still counts.
		a := <-c.done
		release(c)
		return answerOf(serverID, a)
	}
	reply := c.reply
	release(c)
	err = ctx.Err()
	if err != context.DeadlineExceeded {
		// The deadline travelled with the call and ends the handler by
		// itself; a cancellation must be told.
		if perr := t.nc.PublishMsg(controlMsg(subject, "", controlCancel, []byte(reply))); perr != nil {
			t.log.Debug("natsrpc: cancel not sent", "server", serverID, "err", perr)
		}
	}
	return runtime.Response{}, runtime.ContextError(err)
}

// maxCachedSubjects bounds the call subjects a transport keeps, so that a
// process calling ever new server ids does not grow it without end; the
// subjects of the ids beyond are built on every call.
const maxCachedSubjects = 1024

// subjectOf returns the subject of serverID's calls. A process calls the
// same few servers over and over, and building the subject anew cost an
// allocation per call, so subjects are kept.
func (t *Transport) subjectOf(serverID string) (string, error) {
	t.subjectsMu.RLock()
	subject, ok := t.subjects[serverID]
	t.subjectsMu.RUnlock()
	if ok {
		return subject, nil
	}
	subject, err := callSubject(t.prefix, serverID)
	if err != nil {
		return "", err
	}
	t.subjectsMu.Lock()
	if len(t.subjects) < maxCachedSubjects {
		t.subjects[serverID] = subject
	}
	t.subjectsMu.Unlock()
	return subject, nil
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
	_, ok := t.calls[id]
	delete(t.calls, id)
	t.mu.Unlock()
	return ok
}

func release(c *call) {
	c.reply, c.subject, c.serverID = "", "", ""
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
		if c.probe == nil {
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

// onAnswer runs on the answer subscription's goroutine for every answer.
func (t *Transport) onAnswer(m *nats.Msg) {
	rest, ok := strings.CutPrefix(m.Subject, t.inbox)
	if !ok {
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
	delete(t.calls, id)
	if c.probe == nil {
		t.mu.Unlock()
		c.done <- answer{msg: m}
		return
	}
	lost := t.judgeLocked(c, m)
	t.mu.Unlock()
	for _, l := range lost {
		l.c.done <- answer{err: l.err}
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
		delete(t.calls, id)
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
		if c.epoch+1 >= t.epoch {
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
		b.body = append(append(b.body, c.reply...), '\n')
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
	if a.err != nil {
		return runtime.Response{}, a.err
	}
	if isNoResponders(a.msg) {
		return runtime.Response{}, fmt.Errorf("%w: natsrpc: no server %q (no responders)", runtime.ErrNotDelivered, serverID)
	}
	resp, err := runtime.ParseResponse(a.msg.Data)
	if err != nil {
		return runtime.Response{}, runtime.Errorf(runtime.Internal, "natsrpc: malformed answer from %q: %v", serverID, err)
	}
	return resp, nil
}
