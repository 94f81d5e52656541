package cluster

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// View is a live view of the cluster's members, kept by listening to their
// announcements and heartbeats on NATS: a snapshot ([View.Members],
// [View.Member], [View.Lookup]) and a stream of changes ([View.Watch]).
// It is also a membership-backed TCP resolver ([View.Resolve]). A View is
// safe for concurrent use; make one per process and share it.
//
// A member joins the view when its announcement arrives (or, for a view
// that missed it, its next heartbeat), leaves at once when it says goodbye,
// and leaves within its leave bound when it dies. A view whose own NATS
// connection is down cannot tell a dead member from a silent link: it drops
// nobody meanwhile, and gives every member a fresh leave bound once it
// hears again. Time the view was not running (a stalled process) counts
// as nobody's silence.
type View struct {
	nc    *nats.Conn
	subj  subjects
	log   *slog.Logger
	types []string      // nil for all
	bound time.Duration // for members whose record has not arrived
	tick  time.Duration
	ctx   context.Context // ends at Close, aborting fetches
	stopF context.CancelFunc
	stop  <-chan struct{}

	mu         sync.Mutex
	ids        map[string]*slot
	goodbyes   map[string]time.Time // id/incarnation that said goodbye → when to forget it
	ghosts     map[string]ghost     // id/incarnation dropped as silent, by key, for a while
	forgiven   time.Time            // until when a mass silence is not forgiven again
	watches    map[*watch]struct{}
	closed     bool
	linkDown   bool      // not connected at the last check
	lastCheck  time.Time // when the last check ran
	reconnects uint64    // the connection's count at the last check
	mark       uint64    // messages to process before expiring anyone; 0 when none asked
	fetchQ     []fetchReq
	fetching   map[string]bool      // id/incarnation queued or being fetched
	fetchAfter map[string]time.Time // id/incarnation whose fetch failed → when to try again
	fetchers   int

	processed atomic.Uint64 // member-subject messages handled
	snap      atomic.Pointer[snapshot]

	subs    []*nats.Subscription // member subjects
	answers *nats.Subscription   // roll-call answers
	wg      sync.WaitGroup
}

// slot holds what a view knows of one id: every live incarnation, and the
// one it shows.
type slot struct {
	cands        []*cand
	shown        *cand
	shownVersion uint64
}

// cand is one incarnation heard of under an id.
type cand struct {
	inc     string
	started int64
	seen    time.Time
	m       *Member // nil until its record arrives
}

// rollcallWait is how long NewView waits for the answers to its roll call:
// the members' jitter, and a margin for the answers to travel.
const rollcallWait = rollcallJitter + 150*time.Millisecond

// NewView starts a view of the cluster on nc. It asks every member for its
// record (a roll call) and returns once the answers are in, about a
// quarter of a second, with ctx bounding the wait; members that answer
// later, or that it hears of by heartbeat, join the view when they do.
// Options: [WithSubjectPrefix], [WithTypes], [WithLeaveBound],
// [WithLogger].
func NewView(ctx context.Context, nc *nats.Conn, opts ...ViewOption) (*View, error) {
	o, err := newViewOptions(opts)
	if err != nil {
		return nil, invalid(err)
	}
	vctx, cancel := context.WithCancel(context.Background())
	v := &View{
		nc:         nc,
		subj:       newSubjects(o.prefix),
		log:        o.log,
		types:      slices.Clone(o.types),
		bound:      o.bound,
		tick:       o.bound / 12,
		ctx:        vctx,
		stopF:      cancel,
		stop:       vctx.Done(),
		ids:        make(map[string]*slot),
		goodbyes:   make(map[string]time.Time),
		ghosts:     make(map[string]ghost),
		watches:    make(map[*watch]struct{}),
		fetching:   make(map[string]bool),
		fetchAfter: make(map[string]time.Time),
	}
	fail := func(err error) (*View, error) {
		v.Close()
		return nil, err
	}
	subjects := []string{v.subj.all()}
	if v.types != nil {
		subjects = subjects[:0]
		for _, t := range v.types {
			subjects = append(subjects, v.subj.ofType(t))
		}
	}
	for _, s := range subjects {
		sub, err := nc.Subscribe(s, v.onMember)
		if err != nil {
			return fail(unavailable("subscribe "+s, err))
		}
		// A view under load must not lose heartbeats to the slow-consumer
		// limit and then mistake the silence for deaths.
		_ = sub.SetPendingLimits(-1, 64<<20)
		v.subs = append(v.subs, sub)
	}
	inbox := nc.NewInbox()
	if v.answers, err = nc.Subscribe(inbox, v.onAnswer); err != nil {
		return fail(unavailable("subscribe "+inbox, err))
	}
	if err := nc.PublishRequest(v.subj.rollcall(), inbox, typeList(v.types)); err != nil {
		return fail(unavailable("roll call", err))
	}
	if err := flush(ctx, nc); err != nil {
		return fail(unavailable("roll call", err))
	}
	v.lastCheck = time.Now()
	v.reconnects = nc.Stats().Reconnects
	v.wg.Add(1)
	go v.loop()
	t := time.NewTimer(rollcallWait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return v, nil
}

// Close stops the view: it unsubscribes, ends every [View.Watch] channel,
// and returns once its goroutines have ended.
func (v *View) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		v.wg.Wait()
		return
	}
	v.closed = true
	v.mu.Unlock()
	v.stopF()
	for _, s := range v.subs {
		_ = s.Unsubscribe()
	}
	if v.answers != nil {
		_ = v.answers.Unsubscribe()
	}
	v.wg.Wait()
}

// onMember handles a heartbeat or an announcement.
func (v *View) onMember(m *nats.Msg) {
	defer v.processed.Add(1)
	typ, id, ok := v.subj.parseMember(m.Subject)
	if !ok {
		return
	}
	if h, ok := parseHeartbeat(m.Data); ok {
		v.mu.Lock()
		if !v.closed {
			v.onHeartbeat(time.Now(), id, h)
		}
		v.mu.Unlock()
		return
	}
	msg, err := parseMessage(typ, id, m.Data)
	if err != nil {
		v.log.Debug("cluster: ignoring a malformed message", "subject", m.Subject, "err", err)
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	now := time.Now()
	switch {
	case msg.hb: // malformed, or parseHeartbeat would have taken it
	case msg.rec.Op == opLeave:
		v.onGoodbye(now, &msg.rec)
	default:
		v.onRecord(now, &msg.rec)
	}
}

// onAnswer handles an answer to the roll call.
func (v *View) onAnswer(m *nats.Msg) {
	if len(m.Data) == 0 {
		return // NATS's "no responders": nobody is up
	}
	msg, err := parseMessage("", "", m.Data)
	if err != nil {
		v.log.Debug("cluster: ignoring a malformed answer", "err", err)
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed && msg.rec.Op != opLeave {
		v.onRecord(time.Now(), &msg.rec)
	}
}

func goodbyeKey(id, inc string) string { return id + "/" + inc }

func (v *View) wantsType(typ string) bool {
	return v.types == nil || slices.Contains(v.types, typ)
}

func (s *slot) find(inc string) *cand {
	for _, c := range s.cands {
		if c.inc == inc {
			return c
		}
	}
	return nil
}

func (s *slot) findBytes(inc []byte) *cand {
	for _, c := range s.cands {
		if c.inc == string(inc) { // compared without allocating
			return c
		}
	}
	return nil
}

func (v *View) slotOf(id string) *slot {
	s := v.ids[id]
	if s == nil {
		s = &slot{}
		v.ids[id] = s
	}
	return s
}

// onHeartbeat refreshes the incarnation, and fetches its record when it is
// new to the view or has a newer version.
func (v *View) onHeartbeat(now time.Time, id string, hb rawHeartbeat) {
	s := v.ids[id]
	var c *cand
	if s != nil {
		c = s.findBytes(hb.inc)
	}
	if c == nil {
		inc := string(hb.inc)
		key := goodbyeKey(id, inc)
		if _, gone := v.goodbyes[key]; gone {
			return
		}
		s = v.slotOf(id)
		c = &cand{inc: inc, started: hb.started}
		s.cands = append(s.cands, c)
		if g, ok := v.ghosts[key]; ok && g.m.Version >= hb.version {
			// Dropped as silent a moment ago, and alive after all.
			delete(v.ghosts, key)
			c.m, c.seen = g.m, now
			v.settle(id, s, 0)
			return
		}
	}
	c.seen = now
	if c.m == nil || hb.version > c.m.Version {
		v.queueFetch(id, c.inc)
	}
}

// onRecord takes a member's record: a join, an update, or an answer.
func (v *View) onRecord(now time.Time, r *record) {
	if !v.wantsType(r.Type) {
		return
	}
	if _, gone := v.goodbyes[goodbyeKey(r.ID, r.Incarnation)]; gone {
		return
	}
	s := v.slotOf(r.ID)
	c := s.find(r.Incarnation)
	if c == nil {
		c = &cand{inc: r.Incarnation, started: r.StartedAt}
		s.cands = append(s.cands, c)
	}
	c.seen = now
	if c.m != nil && r.Version <= c.m.Version {
		return
	}
	m := r.member()
	c.m, c.started = &m, r.StartedAt
	v.settle(r.ID, s, 0)
}

// onGoodbye drops an incarnation that left, and remembers it for a while
// so that a late answer of it does not bring it back.
func (v *View) onGoodbye(now time.Time, r *record) {
	v.goodbyes[goodbyeKey(r.ID, r.Incarnation)] = now.Add(2 * maxLeaveBound / 10)
	s := v.ids[r.ID]
	if s == nil {
		return
	}
	s.cands = slices.DeleteFunc(s.cands, func(c *cand) bool { return c.inc == r.Incarnation })
	v.settle(r.ID, s, Goodbye)
}

// settle shows the incarnation of id that precedes the others, and emits
// what changed. why is the reason of a shown incarnation that is no longer
// a candidate.
func (v *View) settle(id string, s *slot, why LeaveReason) {
	var w *cand
	for _, c := range s.cands {
		if c.m != nil && (w == nil || precedes(c.started, c.inc, w.started, w.inc)) {
			w = c
		}
	}
	old := s.shown
	changed := true
	switch {
	case old == w && w == nil:
		changed = false
	case old == w:
		if w.m.Version == s.shownVersion {
			changed = false
			break
		}
		v.emit(Event{Type: Updated, Member: *w.m})
	case old == nil:
		v.emit(Event{Type: Joined, Member: *w.m})
	default:
		reason := why
		if slices.Contains(s.cands, old) {
			reason = Replaced
		}
		v.emit(Event{Type: Left, Member: *old.m, Reason: reason})
		if w != nil {
			v.emit(Event{Type: Joined, Member: *w.m})
		}
	}
	s.shown = w
	if w != nil {
		s.shownVersion = w.m.Version
	}
	if len(s.cands) == 0 {
		delete(v.ids, id)
	}
	if changed {
		v.snap.Store(nil)
	}
}

func (v *View) emit(e Event) {
	for w := range v.watches {
		w.push(e)
	}
}

// Watch returns the view's changes, as they happen, for the members that
// pass every filter: first a [Joined] event for each such member already in the
// view, then every change. Filters see the member as the
// event carries it. The channel closes when ctx ends or the view closes.
// Events wait in an unbounded queue until read: read them, or end ctx.
func (v *View) Watch(ctx context.Context, filters ...Filter) <-chan Event {
	w := &watch{filters: slices.Clone(filters), wake: make(chan struct{}, 1), out: make(chan Event), ctx: ctx}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		close(w.out)
		return w.out
	}
	var shown []Member
	for _, s := range v.ids {
		if s.shown != nil {
			shown = append(shown, *s.shown.m)
		}
	}
	slices.SortFunc(shown, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	for _, m := range shown {
		w.push(Event{Type: Joined, Member: m})
	}
	v.watches[w] = struct{}{}
	v.wg.Add(1)
	go v.runWatch(w)
	return w.out
}
