package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// op is one kind of call a worker makes through the backend session API;
// every call is counted and timed under its op.
type op int

const (
	opGet op = iota
	opGetByUID
	opBind
	opUnbind
	opPush
	opPushAll
	opKickBySID
	opKickByUID
	opUpdate
	opForward
	opLocate
	opKickEverywhere
	numOps
)

// String returns the name of the BackendSessionService method.
func (o op) String() string {
	switch o {
	case opGet:
		return "Get"
	case opGetByUID:
		return "GetByUID"
	case opBind:
		return "Bind"
	case opUnbind:
		return "Unbind"
	case opPush:
		return "Push"
	case opPushAll:
		return "PushAll"
	case opKickBySID:
		return "KickBySID"
	case opKickByUID:
		return "KickByUID"
	case opUpdate:
		return "Update"
	case opForward:
		return "Forward"
	case opLocate:
		return "Locate"
	case opKickEverywhere:
		return "KickByUIDEverywhere"
	}
	return "op" + strconv.Itoa(int(o))
}

// weight is how often a worker's step starts with o, relative to the other
// ops. Kicks are rare, as in a game; reads and pushes are common.
func (o op) weight() int {
	switch o {
	case opGet:
		return 20
	case opGetByUID:
		return 10
	case opBind:
		return 14
	case opUnbind:
		return 9
	case opPush:
		return 18
	case opPushAll:
		return 12
	case opKickBySID:
		return 4
	case opKickByUID:
		return 2
	case opUpdate:
		return 6
	case opForward:
		return 6
	case opLocate:
		return 3
	case opKickEverywhere:
		return 1
	}
	return 0
}

// ghostServer is a server id no one serves.
const ghostServer = "connector-404"

// unreachableWithin is how soon a call to a server no one serves must fail:
// half the call timeout. Transports fail it at once (milliseconds); half the
// deadline still tells that from waiting for it, and leaves room for a
// starved machine that stalls the whole process for a second or two.
func (w *worker) unreachableWithin() time.Duration { return w.timeout / 2 }

// unknownSIDBase is above any id a store hands out in a demo run, so that
// ids from it name no session of any worker.
const unknownSIDBase = session.ID(1 << 62)

// worker is one goroutine of a backend. It owns a disjoint share of the
// clients' sessions and of the uids, which no other worker touches, and
// keeps a model of what each must look like; so every call's outcome, and
// every lookup's content, is predicted and checked.
type worker struct {
	name      string
	svc       *sessionremote.BackendSessionService
	frontends []string // ids, by index
	rng       *rand.Rand
	inbox     *mailbox
	progress  *progress
	timeout   time.Duration // of each call

	uids   []string // the uids this worker binds
	nobody string   // a uid of this worker's that is never bound

	all  []*sessionModel // every session this worker ever owned
	live []*sessionModel // the open ones, in no order
	dead []*sessionModel // the kicked ones

	// What each frontend's hooks must have counted for this worker's
	// sessions: new bindings, unbindings, closes.
	binds, unbinds, kicks []int
	reasons               int // for unique kick reasons
	bindClock             int // counts this worker's new bindings

	// The sessions every worker updates, one per frontend, and what this
	// worker did to them: increments acknowledged, by frontend; conflicts
	// detected and retried; updates that gave up.
	shared     []session.ID
	increments []int
	conflicts  int
	gaveUp     int

	// Across the cluster: the worker's cluster (to play its clients, whose
	// frontends forward their messages), its backend's directory of where
	// users are, and what it saw.
	cluster                         *cluster
	dir                             *presence.Directory
	forwardedTo                     map[string]int // forwards, by the room server that took them
	locatedAtOnce, locatedAfterSync int
	kickedEverywhere                int

	stats  [numOps]opStats
	tally  tally
	failed bool // after its first failure a worker stops: its model can no longer predict
	forced int  // when >= 0, what variant returns: the tour's choice
}

// sessionModel is what one session must look like on its frontend.
type sessionModel struct {
	fe       int // frontend index
	sid      session.ID
	uid      string
	settings session.Settings
	closed   bool
	kick     string // closed: the reason its connection must have been given
	pos      int    // index in worker.live while open
	boundAt  int    // the worker's bindClock when uid was bound: the uid index's order
}

// opStats is what a worker measured of one op.
type opStats struct {
	calls    int
	expected int // calls that failed with the error the model predicted
	lat      []time.Duration
}

// newWorkers makes cfg.Workers workers per backend, each calling through
// its backend's transport, with its own uids and random source, on the first
// n frontends (the ones no fault touches), which each backend knows from
// membership. They count what they do in p as they go.
func newWorkers(cfg Config, c *cluster, n int, p *progress) []*worker {
	shared := make([]session.ID, n)
	for i := range shared {
		shared[i] = c.frontends[i].shared
	}
	perWorker := max(1, n*cfg.Clients/(len(c.backends)*cfg.Workers))
	var ws []*worker
	for bi, b := range c.backends {
		ids := b.frontendIDs()[:n]
		for wi := range cfg.Workers {
			g := uint64(len(ws))
			w := &worker{
				name:        fmt.Sprintf("%s/w%d", b.id, wi),
				svc:         b.svc,
				frontends:   ids,
				shared:      shared,
				increments:  make([]int, n),
				cluster:     c,
				dir:         b.dir,
				forwardedTo: make(map[string]int),
				rng:         rand.New(rand.NewPCG(cfg.Seed, g)),
				inbox:       &mailbox{},
				progress:    p,
				timeout:     cfg.CallTimeout,
				nobody:      fmt.Sprintf("b%dw%d-nobody", bi+1, wi),
				binds:       make([]int, len(ids)),
				unbinds:     make([]int, len(ids)),
				kicks:       make([]int, len(ids)),
				forced:      -1,
			}
			// About three sessions per uid, spread over the frontends.
			for k := range max(2, perWorker/3) {
				w.uids = append(w.uids, fmt.Sprintf("b%dw%d-u%d", bi+1, wi, k))
			}
			ws = append(ws, w)
		}
	}
	return ws
}

// run makes calls until ctx ends or the worker sees a failure, starting
// with a tour of every case of every op.
func (w *worker) run(ctx context.Context) {
	w.tour(ctx)
	total := 0
	for o := range numOps {
		total += o.weight()
	}
	for ctx.Err() == nil && !w.failed {
		w.receive()
		if len(w.live) == 0 {
			w.getUnknown() // only after a fault: every kicked client reconnects at once
			continue
		}
		r := w.rng.IntN(total)
		o := opGet
		for r >= o.weight() {
			r -= o.weight()
			o++
		}
		w.step(o)
	}
}

// step makes one call of o, or a short sequence through a BackendSession
// that ends with one.
func (w *worker) step(o op) {
	switch o {
	case opGet:
		w.doGet()
	case opGetByUID:
		w.doGetByUID()
	case opBind:
		w.doBind()
	case opUnbind:
		w.doUnbind()
	case opPush:
		w.doPush()
	case opPushAll:
		w.doPushAll()
	case opKickBySID:
		w.doKickBySID()
	case opKickByUID:
		w.doKickByUID()
	case opUpdate:
		w.doUpdate()
	case opForward:
		w.doForward()
	case opLocate:
		w.doLocate()
	case opKickEverywhere:
		w.doKickEverywhere()
	}
}

// tour steps through every case of every op once, kicks first so that
// the cases on kicked sessions find one, so that even a short run covers
// every error path.
func (w *worker) tour(ctx context.Context) {
	defer func() { w.forced = -1 }()
	// A variant in each range of [worker.variant] that an op distinguishes.
	variants := [...]int{0, 4, 5, 7, 8, 10, 12, 30, 50, 70, 90}
	ops := [...]op{opKickBySID, opKickByUID, opGet, opGetByUID, opBind, opUnbind, opPush, opPushAll, opUpdate,
		opForward, opLocate, opKickEverywhere}
	for _, o := range ops {
		for _, v := range variants {
			if ctx.Err() != nil || w.failed {
				return
			}
			w.receive()
			if len(w.live) == 0 {
				return // only after a fault: every kicked client reconnects at once
			}
			w.forced = v
			w.step(o)
		}
	}
}

// receive takes the sessions the worker's clients have opened since last
// time into the model.
func (w *worker) receive() {
	for _, a := range w.inbox.drain() {
		s := &sessionModel{fe: a.frontend, sid: a.sid}
		w.all = append(w.all, s)
		s.pos = len(w.live)
		w.live = append(w.live, s)
	}
}

// variant returns a number in [0, 100) to choose between an op's cases.
func (w *worker) variant() int {
	if w.forced >= 0 {
		return w.forced
	}
	return w.rng.IntN(100)
}

func (w *worker) pickLive() *sessionModel { return w.live[w.rng.IntN(len(w.live))] }

// pickDead returns a kicked session, or nil when there is none yet.
func (w *worker) pickDead() *sessionModel {
	if len(w.dead) == 0 {
		return nil
	}
	return w.dead[w.rng.IntN(len(w.dead))]
}

func (w *worker) pickUID() string { return w.uids[w.rng.IntN(len(w.uids))] }

// otherUID returns one of the worker's uids other than uid.
func (w *worker) otherUID(uid string) string {
	for {
		if u := w.pickUID(); u != uid {
			return u
		}
	}
}

// pickKey returns a setting key. There are few, so that pushes overwrite
// and delete each other's keys.
func (w *worker) pickKey() string {
	switch w.rng.IntN(6) {
	case 0:
		return "room"
	case 1:
		return "level"
	case 2:
		return "gold"
	case 3:
		return "name"
	case 4:
		return "bag"
	}
	return "pos"
}

func (w *worker) unknownSID() session.ID {
	return unknownSIDBase + session.ID(w.rng.Uint64N(1<<40))
}

func (w *worker) fid(s *sessionModel) string { return w.frontends[s.fe] }

// pickValue returns a setting value of a kind pomelo mangles: integer
// extremes, 2^53+1, floats, strings that need escaping, null, nesting.
func (w *worker) pickValue() any {
	switch w.rng.IntN(12) {
	case 0:
		return int64(math.MaxInt64)
	case 1:
		return int64(math.MinInt64)
	case 2:
		return uint64(math.MaxUint64)
	case 3:
		return int64(1<<53 + 1)
	case 4:
		return w.rng.NormFloat64() * 1e6
	case 5:
		return fmt.Sprintf("room <%d> & \"hall\" é世界", w.rng.IntN(1000))
	case 6:
		return w.rng.IntN(2) == 0
	case 7:
		return nil
	case 8:
		return map[string]any{
			"id":   uint64(math.MaxUint64) - w.rng.Uint64N(1000),
			"tags": []any{"a", int64(1<<53 + 1), 0.1},
			"deep": map[string]any{"n": int64(math.MinInt64), "ok": true, "none": nil},
		}
	case 9:
		return []int64{w.rng.Int64(), -w.rng.Int64(), 0}
	case 10:
		return math.SmallestNonzeroFloat64
	}
	return w.rng.Int64()
}

// encode is the JSON a value becomes as a setting, as the backend API
// encodes it.
func encode(v any) json.RawMessage {
	raw, err := session.EncodeValue(v)
	if err != nil {
		panic(err) // pickValue returns only encodable values
	}
	return raw
}

// call makes one call of o under its own deadline and records its latency.
// A stop of the workload never cuts a call short: its outcome is needed to
// keep the model right.
func (w *worker) call(o op, f func(ctx context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	d := time.Since(start)
	st := &w.stats[o]
	st.calls++
	st.lat = append(st.lat, d)
	w.progress.calls.Add(1)
	w.progress.ops[o].Add(1)
	return d, err
}

// check counts one check; a failed one stops the worker after this step.
// Arguments are formatted only on failure: pass values, not rendered text.
func (w *worker) check(ok bool, format string, args ...any) bool {
	if ok {
		w.tally.passed++
		return true
	}
	w.tally.check(false, "%s: %s", w.name, fmt.Sprintf(format, args...))
	w.failed = true
	w.progress.failed.Add(1)
	return false
}

// expect checks that a call of o returned want: nil, or an error matching
// the sentinel want. what and args say which call, for a failure message.
func (w *worker) expect(o op, err, want error, what string, args ...any) bool {
	switch {
	case want == nil && err != nil:
		return w.check(false, "%s %s: unexpected error: %v", o, fmt.Sprintf(what, args...), err)
	case want != nil && !errors.Is(err, want):
		return w.check(false, "%s %s: got error %v, want %v", o, fmt.Sprintf(what, args...), err, want)
	case want != nil:
		w.stats[o].expected++
		w.progress.expected.Add(1)
		w.progress.opsExpected[o].Add(1)
	}
	return w.check(true, "")
}

// expectLocal checks an error the backend API must return without calling
// anyone; it is not timed.
func (w *worker) expectLocal(o op, err, want error, what string) {
	if w.check(errors.Is(err, want), "%s %s: got error %v, want %v", o, what, err, want) {
		w.stats[o].expected++
		w.progress.expected.Add(1)
		w.progress.opsExpected[o].Add(1)
	}
}

// unreachable calls o on a server no one serves and checks that it fails
// with Unavailable at once: pomelo never called back in that case.
func (w *worker) unreachable(o op, f func(ctx context.Context, frontendID string) error) {
	d, err := w.call(o, func(ctx context.Context) error { return f(ctx, ghostServer) })
	if w.check(runtime.CodeOf(err) == runtime.Unavailable && d < w.unreachableWithin(),
		"%s on unknown server %q: got %v after %v, want Unavailable at once", o, ghostServer, err, d) {
		w.stats[o].expected++
		w.progress.expected.Add(1)
		w.progress.opsExpected[o].Add(1)
	}
}

// get fetches open session s with Get and checks the snapshot against the
// model. It returns nil after a failure.
func (w *worker) get(s *sessionModel) *sessionremote.BackendSession {
	var bs *sessionremote.BackendSession
	_, err := w.call(opGet, func(ctx context.Context) (err error) {
		bs, err = w.svc.Get(ctx, w.fid(s), s.sid)
		return err
	})
	if !w.expect(opGet, err, nil, "sid %d on %s", s.sid, w.fid(s)) || !w.checkSnapshot(s, bs) {
		return nil
	}
	return bs
}

// checkSnapshot checks a BackendSession against the model, and that one of
// its settings decodes losslessly.
func (w *worker) checkSnapshot(s *sessionModel, bs *sessionremote.BackendSession) bool {
	info := bs.Export()
	if !w.check(bs.ID() == s.sid && bs.FrontendID() == w.fid(s) && bs.UID() == s.uid &&
		info.ID == s.sid && info.FrontendID == w.fid(s) && info.UID == s.uid && settingsEqual(info.Settings, s.settings),
		"snapshot of sid %d on %s: got %v, want %v", s.sid, w.fid(s), snapshot(info), snapshot(w.info(s))) {
		return false
	}
	if len(s.settings) == 0 {
		return true
	}
	keys := slices.Sorted(maps.Keys(s.settings))
	key := keys[w.rng.IntN(len(keys))]
	var v any
	found, err := bs.Get(key, &v)
	back, _ := json.Marshal(v)
	return w.check(found && err == nil && bytes.Equal(back, s.settings[key]),
		"setting %q of sid %d on %s read back as %s (found %v, err %v), want %s", key, s.sid, w.fid(s), back, found, err, s.settings[key])
}

// info is the model of s as the store would export it.
func (w *worker) info(s *sessionModel) session.Info {
	return session.Info{ID: s.sid, FrontendID: w.fid(s), UID: s.uid, Settings: s.settings}
}

// boundTo returns the open sessions of uid on frontend fe in bind order, as
// the frontend's uid index must list them.
func (w *worker) boundTo(uid string, fe int) []*sessionModel {
	var out []*sessionModel
	for _, s := range w.live {
		if s.fe == fe && s.uid == uid {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *sessionModel) int { return a.boundAt - b.boundAt })
	return out
}

// set records a pushed setting in the model; a nil raw deletes the key.
func (s *sessionModel) set(key string, raw json.RawMessage) {
	if raw == nil {
		delete(s.settings, key)
		return
	}
	if s.settings == nil {
		s.settings = make(session.Settings)
	}
	s.settings[key] = raw
}

// kicked records in the model that s was kicked with reason.
func (w *worker) kicked(s *sessionModel, reason string) {
	if reason == "" {
		reason = "kick" // pomelo's default
	}
	s.closed, s.kick = true, reason
	last := w.live[len(w.live)-1]
	last.pos = s.pos
	w.live[s.pos] = last
	w.live = w.live[:len(w.live)-1]
	w.dead = append(w.dead, s)
	w.kicks[s.fe]++
}

func (w *worker) reason() string {
	if w.rng.IntN(6) == 0 {
		return "" // the frontend must default it
	}
	w.reasons++
	return fmt.Sprintf("%s kick %d", w.name, w.reasons)
}

// settingsEqual reports whether two settings hold the same keys with the
// same JSON, byte for byte; nil and empty are equal.
func settingsEqual(a, b session.Settings) bool {
	return maps.EqualFunc(a, b, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

// snapshot renders a session.Info in failure messages, only when one is
// printed.
type snapshot session.Info

// String implements fmt.Stringer.
func (info snapshot) String() string {
	keys := slices.Sorted(maps.Keys(info.Settings))
	var b bytes.Buffer
	fmt.Fprintf(&b, "{sid %d on %s, uid %q, settings {", info.ID, info.FrontendID, info.UID)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", k, info.Settings[k])
	}
	b.WriteString("}}")
	return b.String()
}
