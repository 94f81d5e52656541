package cluster

import (
	"context"
	"errors"
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
	fetching   map[string]bool // id/incarnation queued or being fetched
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

type fetchReq struct{ id, inc string }

// ghost is the record of an incarnation dropped as silent, kept for a
// while: when it is heard again (it was cut off, or the view was behind)
// it comes back without every view fetching its record at once.
type ghost struct {
	m     *Member
	until time.Time
}

// maxFetchers bounds the goroutines a view fetches records with; they run
// only while there is something to fetch.
const maxFetchers = 4

// maxFetchQueue bounds the records a view waits to fetch; beyond, a
// heartbeat's fetch is dropped and the next heartbeat asks again.
const maxFetchQueue = 4096

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
		nc:       nc,
		subj:     newSubjects(o.prefix),
		log:      o.log,
		types:    slices.Clone(o.types),
		bound:    o.bound,
		tick:     o.bound / 12,
		ctx:      vctx,
		stopF:    cancel,
		stop:     vctx.Done(),
		ids:      make(map[string]*slot),
		goodbyes: make(map[string]time.Time),
		ghosts:   make(map[string]ghost),
		watches:  make(map[*watch]struct{}),
		fetching: make(map[string]bool),
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

// queueFetch asks for the record of id's incarnation inc, once.
func (v *View) queueFetch(id, inc string) {
	key := goodbyeKey(id, inc)
	if v.fetching[key] || len(v.fetchQ) >= maxFetchQueue {
		return
	}
	v.fetching[key] = true
	v.fetchQ = append(v.fetchQ, fetchReq{id, inc})
	if v.fetchers < maxFetchers {
		v.fetchers++
		v.wg.Add(1)
		go v.fetchLoop()
	}
}

// fetchLoop fetches queued records until none is left.
func (v *View) fetchLoop() {
	defer v.wg.Done()
	for {
		v.mu.Lock()
		if len(v.fetchQ) == 0 || v.closed {
			v.fetchers--
			v.mu.Unlock()
			return
		}
		r := v.fetchQ[0]
		v.fetchQ = v.fetchQ[1:]
		v.mu.Unlock()
		v.fetch(r)
	}
}

// fetch asks the member for its record, by request on its whois subject
// naming the incarnation.
func (v *View) fetch(r fetchReq) {
	ctx, cancel := context.WithTimeout(v.ctx, heartbeatEvery(v.bound))
	msg, err := v.nc.RequestWithContext(ctx, v.subj.whois(r.id), []byte(r.inc))
	cancel()
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.fetching, goodbyeKey(r.id, r.inc))
	if v.closed {
		return
	}
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			// Gone already. An incarnation known only by heartbeat is
			// dropped; one with a record expires as usual.
			if s := v.ids[r.id]; s != nil {
				s.cands = slices.DeleteFunc(s.cands, func(c *cand) bool { return c.inc == r.inc && c.m == nil })
				if len(s.cands) == 0 && s.shown == nil {
					delete(v.ids, r.id)
				}
			}
		}
		v.log.Debug("cluster: record not fetched", "id", r.id, "incarnation", r.inc, "err", err)
		return
	}
	m, err := parseMessage("", "", msg.Data)
	if err != nil || m.rec.ID != r.id || m.rec.Op == opLeave {
		v.log.Debug("cluster: ignoring a malformed record", "id", r.id, "err", err)
		return
	}
	v.onRecord(time.Now(), &m.rec)
}

// loop checks for silent members every tick.
func (v *View) loop() {
	defer v.wg.Done()
	t := time.NewTicker(v.tick)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case now := <-t.C:
			v.check(now)
		}
	}
}

// check expires the members that have been silent for their leave bound,
// unless the view cannot trust its own silence: its connection is or was
// down, the view itself stalled, or messages that arrived before it proved
// its link are not handled yet.
func (v *View) check(now time.Time) {
	v.mu.Lock()
	if late := now.Sub(v.lastCheck) - v.tick; late > 2*v.tick {
		// The view was not running for a while (a stalled process, a
		// starved machine): that time is nobody's silence. In one process
		// the members stalled too, and beat again only now.
		v.log.Debug("cluster: view stalled; the stall is forgiven", "for", late)
		for _, s := range v.ids {
			for _, c := range s.cands {
				c.seen = c.seen.Add(late)
			}
		}
	}
	v.lastCheck = now
	if !v.nc.IsConnected() {
		v.linkDown, v.mark = true, 0
		v.mu.Unlock()
		return
	}
	if rc := v.nc.Stats().Reconnects; v.linkDown || rc != v.reconnects {
		// Everyone gets a fresh bound: the grace after a reconnect.
		v.log.Debug("cluster: view was deaf; every member gets a fresh leave bound", "reconnected", rc != v.reconnects)
		for _, s := range v.ids {
			for _, c := range s.cands {
				c.seen = now
			}
		}
		v.linkDown, v.reconnects, v.mark = false, rc, 0
	}
	for k, until := range v.goodbyes {
		if now.After(until) {
			delete(v.goodbyes, k)
		}
	}
	for k, g := range v.ghosts {
		if now.After(g.until) {
			delete(v.ghosts, k)
		}
	}
	due := false
	for _, s := range v.ids {
		for _, c := range s.cands {
			if v.silent(now, c) {
				due = true
			}
		}
	}
	if !due {
		v.mark = 0
		v.mu.Unlock()
		return
	}
	if v.mark != 0 {
		if v.processed.Load() < v.mark {
			v.mu.Unlock()
			return // still handling what arrived before the link was proved
		}
		v.mark = 0
		v.expire(now)
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()

	// Prove the link with a round trip to NATS before taking silence for
	// death; what arrived before the answer must be handled first. A round
	// trip that does not come back in time proves nothing either way (a
	// busy NATS, a starved process): try again at the next check. A lost
	// connection shows in the next check, and earns the grace.
	if err := v.nc.FlushTimeout(heartbeatEvery(v.bound)); err != nil {
		return
	}
	var mark uint64
	for _, s := range v.subs {
		n, _, _ := s.Pending()
		d, _ := s.Delivered()
		mark += uint64(max(n, 0)) + uint64(max(d, 0))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.linkDown {
		return
	}
	if v.processed.Load() < mark {
		v.mark = mark
		return
	}
	v.expire(time.Now())
}

// silent reports whether c has been silent long enough to be dropped: its
// leave bound, less two check periods: one may pass before the silence is
// noticed, and one more while the view proves its link. (A member whose
// bound is shorter than the view's is checked as often as the view checks:
// it leaves up to two of the view's periods after its bound.)
func (v *View) silent(now time.Time, c *cand) bool {
	bound := v.bound
	if c.m != nil {
		bound = c.m.LeaveBound
	}
	return now.Sub(c.seen) > bound-min(2*v.tick, bound/6)
}

// expire drops every silent incarnation, unless many shown members fell
// silent at once and this is the first time: more than a quarter of them,
// and at least two. That is what a view sees when NATS itself is the
// trouble (a node failing over, congestion delaying every heartbeat), and
// it then gives those members one more leave bound. A real mass failure is
// reported a bound later; a second such silence in a row is not forgiven.
func (v *View) expire(now time.Time) {
	shown, silent := 0, 0
	var bound time.Duration
	for _, s := range v.ids {
		if s.shown != nil {
			shown++
			if v.silent(now, s.shown) {
				silent++
				bound = max(bound, s.shown.m.LeaveBound)
			}
		}
	}
	if silent >= 2 && silent*4 > shown && now.After(v.forgiven) {
		// The members forgiven fall due again one bound from now: that
		// silence is the same one, and is not forgiven.
		v.forgiven = now.Add(2 * bound)
		v.log.Warn("cluster: many members silent at once; giving them one more leave bound", "silent", silent, "of", shown)
		for _, s := range v.ids {
			for _, c := range s.cands {
				if v.silent(now, c) {
					c.seen = now
				}
			}
		}
		return
	}
	for id, s := range v.ids {
		n := len(s.cands)
		s.cands = slices.DeleteFunc(s.cands, func(c *cand) bool {
			if !v.silent(now, c) {
				return false
			}
			if c.m != nil {
				v.ghosts[goodbyeKey(id, c.inc)] = ghost{m: c.m, until: now.Add(2 * c.m.LeaveBound)}
			}
			return true
		})
		if len(s.cands) != n {
			v.settle(id, s, Expired)
		}
	}
}

// snapshot is the view's members at one moment, immutable, for lookups
// and routing without the view's mutex.
type snapshot struct {
	members []Member            // sorted by ID
	byID    map[string]int      // index in members
	serving map[string][]Member // serving members by type, sorted by ID
}

func (v *View) current() *snapshot {
	if s := v.snap.Load(); s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.snap.Load(); s != nil {
		return s
	}
	s := &snapshot{byID: make(map[string]int, len(v.ids)), serving: map[string][]Member{}}
	for _, sl := range v.ids {
		if sl.shown != nil {
			s.members = append(s.members, *sl.shown.m)
		}
	}
	slices.SortFunc(s.members, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	for i, m := range s.members {
		s.byID[m.ID] = i
		if m.State == Serving {
			s.serving[m.Type] = append(s.serving[m.Type], m)
		}
	}
	v.snap.Store(s)
	return s
}

// Members returns the members that pass every filter, sorted by id.
func (v *View) Members(filters ...Filter) []Member {
	s := v.current()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		if matches(m, filters) {
			out = append(out, m)
		}
	}
	return out
}

// Member returns the live member with this id.
func (v *View) Member(id string) (Member, bool) {
	s := v.current()
	if i, ok := s.byID[id]; ok {
		return s.members[i], true
	}
	return Member{}, false
}

// Lookup returns the member with this id if it is the live incarnation
// inc: whether that run of the server is still up (a session or a
// connection made with it is still good).
func (v *View) Lookup(id, inc string) (Member, bool) {
	m, ok := v.Member(id)
	if !ok || m.Incarnation != inc {
		return Member{}, false
	}
	return m, true
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
