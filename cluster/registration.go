package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Registration is this server's membership: it announced itself with
// [Join] and heartbeats until [Registration.Leave] or
// [Registration.Close]. It is safe for concurrent use.
type Registration struct {
	nc      *nats.Conn
	subj    subjects
	log     *slog.Logger
	every   time.Duration // heartbeat period
	id, typ string        // never change: read without the mutex
	subject string        // the member subject

	mu     sync.Mutex // orders state changes and what is published about them
	rec    record
	over   bool  // left, closed or gave the id up: nothing more is published
	err    error // why it ended, for Err
	timers map[*time.Timer]struct{}
	subs   []*nats.Subscription
	hb     []byte // heartbeat buffer

	status chan nats.Status
	stop   chan struct{} // closed to end the loop
	done   chan struct{} // closed when the loop has ended
	once   sync.Once
}

// rollcallJitter bounds how long a member waits before it answers a roll
// call, so that a new view's answers arrive spread out, not in one burst.
const rollcallJitter = 100 * time.Millisecond

// Join announces a server to the cluster on nc and keeps it announced: a
// heartbeat every third of the leave bound, and its record to whoever asks.
// Options: [WithSubjectPrefix], [WithLeaveBound], [WithLogger],
// [WithIncarnation].
//
// Before it announces, Join asks NATS who holds info.ID. A live holder
// answers, and Join fails with [ErrDuplicateID], naming it. "No responders"
// means nobody does. A holder that does not answer within a third of the
// leave bound (a machine that died without closing its connection) is
// taken for dead, and Join goes ahead: the views replace it at once.
//
// Two servers that join under one id at the same instant can both pass
// that check; the later start (then the greater incarnation) keeps the id,
// in every view alike, and the other ends with [ErrDuplicateID] in
// [Registration.Err] as soon as it hears of the winner.
//
// Join returns once NATS has the announcement. Invalid info fails with
// InvalidArgument.
func Join(ctx context.Context, nc *nats.Conn, info Info, opts ...JoinOption) (*Registration, error) {
	o, err := newJoinOptions(opts)
	if err != nil {
		return nil, invalid(err)
	}
	if err := info.check(); err != nil {
		return nil, invalid(err)
	}
	started := time.Now()
	if !o.startedAt.IsZero() {
		started = o.startedAt
	}
	inc := o.incarnation
	if inc == "" {
		inc = NewIncarnation()
	}
	r := &Registration{
		nc:      nc,
		subj:    newSubjects(o.prefix),
		log:     o.log,
		every:   heartbeatEvery(o.bound),
		id:      info.ID,
		typ:     info.Type,
		subject: newSubjects(o.prefix).member(info.Type, info.ID),
		rec: record{
			ID: info.ID, Type: info.Type, Frontend: info.Frontend, Addr: info.Addr,
			Incarnation:  inc,
			StartedAt:    started.UnixNano(),
			State:        Serving.String(),
			Version:      1,
			LeaveBoundMS: o.bound.Milliseconds(),
			Routes:       sortedRoutes(info.Routes),
			Metadata:     maps.Clone(info.Metadata),
		},
		timers: make(map[*time.Timer]struct{}),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if err := r.checkSize(); err != nil {
		return nil, err
	}
	if !o.noCheck {
		if err := r.checkHolder(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.subscribe(); err != nil {
		r.unsubscribe()
		return nil, err
	}
	r.status = nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	r.mu.Lock()
	err = nc.Publish(r.subject, r.rec.encode(opJoin))
	r.mu.Unlock()
	if err == nil {
		err = flush(ctx, nc)
	}
	if err != nil {
		// The announcement may get through yet: take it back, as far as
		// NATS lets us, rather than leave views a member that never was.
		_ = nc.Publish(r.subject, r.rec.encode(opLeave))
		nc.RemoveStatusListener(r.status)
		r.unsubscribe()
		if runtime.CodeOf(err) == runtime.Canceled {
			return nil, err
		}
		return nil, unavailable("announce "+info.ID, err)
	}
	go r.loop()
	return r, nil
}

// checkSize fails when r's record is too large to announce.
func (r *Registration) checkSize() error {
	n := len(r.rec.encode(opJoin))
	if n > maxRecordSize || int64(n) > r.nc.MaxPayload() {
		return invalid(fmt.Errorf("server %q: record of %d bytes, over the limit of %d", r.id, n, min(maxRecordSize, r.nc.MaxPayload())))
	}
	return nil
}

// checkHolder fails with ErrDuplicateID when a live member holds r's id.
func (r *Registration) checkHolder(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, r.every)
	defer cancel()
	msg, err := r.nc.RequestWithContext(cctx, r.subj.whois(r.id), nil)
	switch {
	case err == nil:
		m, perr := parseMessage("", "", msg.Data)
		if perr != nil || m.rec.ID != r.id {
			return fmt.Errorf("%w: %q, whose holder answers with an unreadable record", ErrDuplicateID, r.id)
		}
		h := m.rec.member()
		return fmt.Errorf("%w: %q is held by incarnation %s (type %s, started %s, address %q)",
			ErrDuplicateID, r.id, h.Incarnation, h.Type, h.StartedAt.UTC().Format(time.RFC3339Nano), h.Addr)
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case ctx.Err() != nil:
		return runtime.ContextError(ctx.Err())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		r.log.Warn("cluster: the holder of this id did not answer; taking it for dead", "id", r.id, "waited", r.every)
		return nil
	}
	return unavailable("ask who holds "+r.id, err)
}

func (r *Registration) subscribe() error {
	for _, s := range []struct {
		subject string
		h       nats.MsgHandler
	}{
		{r.subj.whois(r.id), r.onWhois},
		{r.subj.rollcall(), r.onRollcall},
		{r.subject, r.onSameID},
	} {
		sub, err := r.nc.Subscribe(s.subject, s.h)
		if err != nil {
			return unavailable("subscribe "+s.subject, err)
		}
		r.subs = append(r.subs, sub)
	}
	return nil
}

func (r *Registration) unsubscribe() {
	for _, s := range r.subs {
		_ = s.Unsubscribe()
	}
}

// loop heartbeats until stop, and announces the whole record at once after
// a reconnect, for the views that lost track meanwhile.
func (r *Registration) loop() {
	defer close(r.done)
	defer r.nc.RemoveStatusListener(r.status)
	next := nextBeat(time.Now(), r.every)
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			next = next.Add(r.every)
			if !next.After(now) {
				next = nextBeat(now, r.every) // late by a period or more: skip, do not burst
			}
			t.Reset(next.Sub(now))
			if r.nc.IsClosed() {
				r.end(ErrConnClosed)
				return
			}
			r.beat(false)
		case s := <-r.status:
			switch s {
			case nats.CONNECTED:
				r.beat(true)
			case nats.CLOSED:
				r.end(ErrConnClosed)
				return
			}
		}
	}
}

// nextBeat returns the next multiple of every on the wall clock after now.
// Members with the same period heartbeat in step, so that NATS hands each
// view the heartbeats of a period in a few batches (one write and one
// wake-up for many messages) rather than one at a time: at 150 members
// and views in one process this took a third of the CPU time of beats
// spread over the period. Clocks apart by more than a few milliseconds
// only spread them out again.
func nextBeat(now time.Time, every time.Duration) time.Time {
	return now.Add(every - time.Duration(now.UnixNano()%int64(every)))
}

// beat publishes a heartbeat, or the whole record when full.
func (r *Registration) beat(full bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over || !r.nc.IsConnected() {
		// What is published while disconnected would arrive late, in one
		// burst after the reconnect, which announces anyway.
		return
	}
	var err error
	if full {
		err = r.nc.Publish(r.subject, r.rec.encode(opState))
	} else {
		r.hb = appendHeartbeat(r.hb[:0], r.rec.Incarnation, r.rec.Version, r.rec.StartedAt)
		err = r.nc.Publish(r.subject, r.hb)
	}
	if err != nil {
		r.log.Debug("cluster: heartbeat not sent", "id", r.id, "err", err)
	}
}

// onWhois answers who holds the id, for a joining server's check and for
// views fetching the record. A request that names another incarnation is
// for a rival of this one, and left to it.
func (r *Registration) onWhois(m *nats.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over || m.Reply == "" || (len(m.Data) > 0 && string(m.Data) != r.rec.Incarnation) {
		return
	}
	_ = r.nc.Publish(m.Reply, r.rec.encode(opState))
}

// onRollcall answers a new view with the record, after a random wait.
func (r *Registration) onRollcall(m *nats.Msg) {
	if m.Reply == "" || !wantsType(m.Data, r.typ) {
		return
	}
	reply := m.Reply
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(rand.N(rollcallJitter), func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.timers, t)
		if !r.over {
			_ = r.nc.Publish(reply, r.rec.encode(opState))
		}
	})
	r.timers[t] = struct{}{}
}

// onSameID hears every message about the id, its own included: another
// incarnation alive under the id is a rival, and the one that does not
// precede gives the id up.
func (r *Registration) onSameID(m *nats.Msg) {
	msg, err := parseMessage(r.typ, r.id, m.Data)
	if err != nil {
		return
	}
	inc, started := msg.beat.inc, msg.beat.started
	if !msg.hb {
		if msg.rec.Op == opLeave {
			return
		}
		inc, started = msg.rec.Incarnation, msg.rec.StartedAt
	}
	r.mu.Lock()
	if r.over || inc == r.rec.Incarnation {
		r.mu.Unlock()
		return
	}
	if !precedes(started, inc, r.rec.StartedAt, r.rec.Incarnation) {
		r.mu.Unlock()
		// This one keeps the id: let the rival hear it at once.
		r.beat(true)
		return
	}
	r.log.Warn("cluster: another incarnation holds this id; giving it up", "id", r.id, "incarnation", r.rec.Incarnation, "rival", inc)
	_ = r.nc.Publish(r.subject, r.rec.encode(opLeave))
	r.finish(fmt.Errorf("%w: incarnation %s of %q started at the same time, and keeps it", ErrDuplicateID, inc, r.id))
	r.mu.Unlock()
}

// end ends the registration with err, publishing nothing more.
func (r *Registration) end(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.over {
		r.finish(err)
	}
}

// finish marks r over with err, unsubscribes and stops the loop; r.mu is
// held and r not over yet.
func (r *Registration) finish(err error) {
	r.over, r.err = true, err
	for t := range r.timers {
		t.Stop()
	}
	clear(r.timers)
	r.unsubscribe()
	r.once.Do(func() { close(r.stop) })
}

// Member returns the registration's member as views see it.
func (r *Registration) Member() Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec.member()
}

// Update announces new info for the member: its address, frontend flag,
// routes and metadata may change; its id and type may not
// (InvalidArgument). Views see an update event. It returns once NATS has
// the announcement; when NATS cannot be reached it returns an Unavailable
// error, and views learn the change from the member's heartbeats once it
// is back.
func (r *Registration) Update(ctx context.Context, info Info) error {
	if err := info.check(); err != nil {
		return invalid(err)
	}
	return r.change(ctx, func(rec *record) error {
		if info.ID != rec.ID || info.Type != rec.Type {
			return invalid(fmt.Errorf("server %q of type %q cannot become %q of type %q", rec.ID, rec.Type, info.ID, info.Type))
		}
		rec.Frontend, rec.Addr = info.Frontend, info.Addr
		rec.Routes, rec.Metadata = sortedRoutes(info.Routes), maps.Clone(info.Metadata)
		return nil
	})
}

// Drain marks the member draining: routers stop picking it for calls by
// type, while calls by id still reach it. Call it before [Registration.Leave]
// in a rolling deploy, and leave once the calls in flight are done.
// Draining twice is a no-op.
func (r *Registration) Drain(ctx context.Context) error {
	return r.change(ctx, func(rec *record) error {
		if rec.State == Draining.String() {
			return errNoChange
		}
		rec.State = Draining.String()
		return nil
	})
}

var errNoChange = errors.New("no change")

// change applies f to the record and announces the new version.
func (r *Registration) change(ctx context.Context, f func(*record) error) error {
	r.mu.Lock()
	if r.over {
		r.mu.Unlock()
		return r.leftError()
	}
	next := r.rec
	switch err := f(&next); err {
	case nil:
	case errNoChange:
		r.mu.Unlock()
		return nil
	default:
		r.mu.Unlock()
		return err
	}
	next.Version++
	prev := r.rec
	r.rec = next
	if err := r.checkSize(); err != nil {
		r.rec = prev
		r.mu.Unlock()
		return err
	}
	err := r.nc.Publish(r.subject, next.encode(opUpdate))
	r.mu.Unlock()
	if err == nil {
		err = flush(ctx, r.nc)
	}
	if err != nil && runtime.CodeOf(err) != runtime.Canceled {
		return unavailable("announce "+r.id, err)
	}
	return err
}

func (r *Registration) leftError() error {
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrLeft, r.err)
	}
	return ErrLeft
}

// Leave says goodbye: every view drops the member at once, and the
// registration stops. It returns once NATS has the goodbye, or with an
// Unavailable error when NATS cannot be reached; the member then leaves
// the views within its leave bound, as if it had died. Leave after the
// registration ended returns nil.
func (r *Registration) Leave(ctx context.Context) error {
	r.mu.Lock()
	if r.over {
		r.mu.Unlock()
		<-r.done
		return nil
	}
	err := r.nc.Publish(r.subject, r.rec.encode(opLeave))
	r.finish(nil)
	r.mu.Unlock()
	if err == nil {
		err = flush(ctx, r.nc)
	}
	<-r.done
	if err != nil && runtime.CodeOf(err) != runtime.Canceled {
		return unavailable("announce the goodbye of "+r.id, err)
	}
	return err
}

// Close stops the registration without a goodbye, as if the process had
// died: views drop the member within its leave bound. Use
// [Registration.Leave] to leave at once. Close after the registration
// ended does nothing.
func (r *Registration) Close() {
	r.end(nil)
	<-r.done
}

// Done is closed when the registration ends: [Registration.Leave],
// [Registration.Close], its NATS connection closing, or giving its id up
// to a rival. [Registration.Err] then says why.
func (r *Registration) Done() <-chan struct{} { return r.done }

// Err returns why the registration ended: nil while it runs and after
// Leave or Close, [ErrConnClosed] when its connection closed, an error
// matching [ErrDuplicateID] when a rival took its id.
func (r *Registration) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
