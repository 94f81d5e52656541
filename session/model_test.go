package session_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sessionrpc/sessionrpc/session"
)

var seedFlag = flag.Uint64("session.seed", 0, "seed for the randomized model tests (0 picks one)")

// TestModel drives a store from several goroutines with random operations and checks
// every result, every hook and connection call, and the final state against a simple
// sequential model. Each operation is applied to the store and the model under one
// mutex, so the model can predict exactly; meanwhile reader goroutines walk the store
// without that mutex, so the race detector sees real concurrency. A failure prints the
// seed; -session.seed replays each worker's sequence of operations.
func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("single=%v", single), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay with: go test -race -run 'TestModel' ./session/ -session.seed=%d", seed)
				}
			})
			runModel(t, seed, single, 8, 500*time.Millisecond)
		})
	}
}

// The pools keep collisions likely: few uids and keys, so binds conflict and pushes
// overwrite.
var (
	modelUIDs    = []string{"", "a", "b", "c", "d", "e"}
	modelKeys    = []string{"k1", "k2", "k3", "k4"}
	modelReasons = []string{"", "bye", "dup"}
	modelRaw     = []string{
		"", `null`, `0`, `-9223372036854775808`, `18446744073709551615`, `9007199254740993`,
		`1.5e-300`, `"s"`, `""`, `true`, `{"a":[1,{"b":null}]}`, `[]`, `{}`, `{"a":`, `nope`,
	}
	modelValues = []any{
		nil, int64(math.MinInt64), uint64(math.MaxUint64), "x", []any{1.5, "y"},
		map[string]any{"k": false, "n": json.Number("9007199254740993")}, struct{ A int }{3},
	}
)

type modelSession struct {
	s        *session.Session
	conn     *fakeConn
	uid      string
	settings map[string]string
	closed   bool
	kicks    []string // what the connection should have been told
	boundAt  int      // when uid was bound, in binds: GetByUID's order
	rev      uint64   // the revision: 1 at creation, +1 per change
}

type modelChecker struct {
	t      *testing.T
	st     *session.Store
	single bool
	failed atomic.Bool
	maxID  atomic.Uint64 // for the readers, which run outside mu

	mu       sync.Mutex // held for each operation: store call, prediction, comparison
	log      eventLog
	sessions map[session.ID]*modelSession
	order    []session.ID
	lastID   session.ID
	binds    int
}

// modelBudget is the settings budget of the model's store: small enough that pushes of
// the larger values in modelRaw and modelValues go over it.
const modelBudget = 80

func runModel(t *testing.T, seed uint64, single bool, workers int, d time.Duration) {
	var opts []session.Option
	if single {
		opts = append(opts, session.WithSingleSession())
	}
	opts = append(opts, session.WithSettingsBudget(modelBudget))
	c := &modelChecker{t: t, st: session.NewStore(fid, opts...), single: single,
		sessions: map[session.ID]*modelSession{}}
	recordHooks(c.st, &c.log)

	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { c.read(rand.New(rand.NewPCG(seed, 1000)), stop) })
	var writers sync.WaitGroup
	var steps atomic.Int64
	for i := range workers {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			for n := 0; n < 50_000 && !c.failed.Load() && time.Now().Before(deadline); n++ {
				c.step(r)
				steps.Add(1)
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if !c.failed.Load() {
		c.checkFinal()
	}
	t.Logf("%d operations", steps.Load())
}

func (c *modelChecker) fail(format string, args ...any) {
	c.t.Helper()
	if c.failed.CompareAndSwap(false, true) {
		c.t.Errorf(format, args...)
	}
}

// step runs one random operation and checks its result.
func (c *modelChecker) step(r *rand.Rand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.pickID(r)
	ms := c.sessions[id]
	handle := ms != nil && r.IntN(2) == 0
	uid := modelUIDs[r.IntN(len(modelUIDs))]
	key := modelKeys[r.IntN(len(modelKeys))]
	reason := modelReasons[r.IntN(len(modelReasons))]

	var op string
	var err, want error
	var events []string
	switch r.IntN(20) {
	case 0, 1, 2:
		op = "Create"
		conn := &fakeConn{log: &c.log}
		s := c.st.Create(conn)
		conn.id = s.ID()
		c.lastID++
		c.maxID.Store(uint64(c.lastID))
		if s.ID() != c.lastID {
			c.fail("Create returned id %d, want %d", s.ID(), c.lastID)
		}
		c.sessions[s.ID()] = &modelSession{s: s, conn: conn, settings: map[string]string{}, rev: 1}
		c.order = append(c.order, s.ID())
	case 3, 4, 5, 6:
		op = fmt.Sprintf("Bind(%d, %q) handle=%v", id, uid, handle)
		if handle {
			err = ms.s.Bind(uid)
		} else {
			err = c.st.Bind(id, uid)
		}
		want, events = c.bind(id, uid, handle)
	case 7, 8:
		op = fmt.Sprintf("Unbind(%d, %q) handle=%v", id, uid, handle)
		if handle {
			err = ms.s.Unbind(uid)
		} else {
			err = c.st.Unbind(id, uid)
		}
		want, events = c.unbind(id, uid, handle)
	case 9, 10:
		raw := c.pickRaw(r)
		if r.IntN(2) == 0 {
			op = fmt.Sprintf("Push(%d, %q, %q)", id, key, raw)
			err = c.st.Push(id, key, raw)
			want, _ = c.push(id, session.Settings{key: raw}, 0)
			break
		}
		ifRev := c.pickRevision(r, ms)
		op = fmt.Sprintf("PushIf(%d, %q, %q, %d)", id, key, raw, ifRev)
		var rev, wantRev uint64
		rev, err = c.st.PushIf(id, key, raw, ifRev)
		want, wantRev = c.push(id, session.Settings{key: raw}, ifRev)
		if rev != wantRev {
			c.fail("%s returned revision %d, model %d", op, rev, wantRev)
		}
	case 11:
		all := session.Settings{}
		for range r.IntN(4) {
			all[modelKeys[r.IntN(len(modelKeys))]] = c.pickRaw(r)
		}
		if r.IntN(2) == 0 {
			op = fmt.Sprintf("PushAll(%d, %s)", id, all)
			err = c.st.PushAll(id, all)
			want, _ = c.push(id, all, 0)
			break
		}
		ifRev := c.pickRevision(r, ms)
		op = fmt.Sprintf("PushAllIf(%d, %s, %d)", id, all, ifRev)
		var rev, wantRev uint64
		rev, err = c.st.PushAllIf(id, all, ifRev)
		want, wantRev = c.push(id, all, ifRev)
		if rev != wantRev {
			c.fail("%s returned revision %d, model %d", op, rev, wantRev)
		}
	case 12:
		if ms == nil {
			return
		}
		v := modelValues[r.IntN(len(modelValues))]
		op = fmt.Sprintf("Set(%d, %q, %v)", id, key, v)
		err = ms.s.Set(key, v)
		want = c.set(ms, key, v)
	case 13:
		if ms == nil {
			return
		}
		op = fmt.Sprintf("Remove(%d, %q)", id, key)
		ms.s.Remove(key)
		if _, ok := ms.settings[key]; ok && !ms.closed {
			delete(ms.settings, key)
			ms.rev++
		}
	case 14:
		op = fmt.Sprintf("Kick(%d, %q) handle=%v", id, reason, handle)
		if handle {
			ms.s.Kick(reason)
		} else {
			c.st.KickBySID(id, reason)
		}
		events = c.close(ms, reason, true)
	case 15:
		op = fmt.Sprintf("KickByUID(%q, %q)", uid, reason)
		c.st.KickByUID(uid, reason)
		for _, lid := range c.liveByUID(uid) {
			events = append(events, c.close(c.sessions[lid], reason, true)...)
		}
	case 16:
		if ms == nil {
			return
		}
		op = fmt.Sprintf("Close(%d, %q)", id, reason)
		ms.s.Close(reason)
		events = c.close(ms, reason, false)
	default:
		op = fmt.Sprintf("check(%d, %q)", id, uid)
		c.checkSession(op, id)
		c.checkUID(op, uid)
	}
	if (want == nil) != (err == nil) || !errors.Is(err, want) {
		c.fail("%s = %v, want %v", op, err, want)
	}
	// cmp.Diff only on a mismatch: it is slow enough to dominate the loop.
	if got := c.log.take(); !slices.Equal(events, got) {
		c.fail("%s: hook and conn events (-want +got):\n%s", op, cmp.Diff(events, got))
	}
}

func (c *modelChecker) pickID(r *rand.Rand) session.ID {
	switch n := len(c.order); {
	case n == 0 || r.IntN(10) == 0:
		return c.lastID + 1 + session.ID(r.IntN(3)) // not created (yet)
	case r.IntN(4) == 0:
		return c.order[r.IntN(n)]
	default:
		// Mostly recent sessions, which are more likely to be live.
		return c.order[max(0, n-1-r.IntN(24))]
	}
}

// pickRevision returns a condition for a write to ms: mostly its revision, else none,
// one it had or one it has not reached.
func (c *modelChecker) pickRevision(r *rand.Rand, ms *modelSession) uint64 {
	if ms == nil {
		return uint64(r.IntN(3))
	}
	switch r.IntN(5) {
	case 0:
		return 0
	case 1:
		return ms.rev - 1
	case 2:
		return ms.rev + 1
	}
	return ms.rev
}

func (c *modelChecker) pickRaw(r *rand.Rand) json.RawMessage {
	raw := modelRaw[r.IntN(len(modelRaw))]
	if raw == "" {
		return nil
	}
	return json.RawMessage(raw)
}

// gone returns the error for an operation on a session that is absent or closed, or nil
// when it is live.
func (c *modelChecker) gone(id session.ID, handle bool) error {
	ms := c.sessions[id]
	switch {
	case ms == nil:
		return session.ErrSessionNotFound
	case !ms.closed:
		return nil
	case handle:
		return session.ErrSessionClosed
	}
	return session.ErrSessionNotFound
}

func (c *modelChecker) bind(id session.ID, uid string, handle bool) (error, []string) {
	if err := c.gone(id, handle); err != nil {
		return err, nil
	}
	ms := c.sessions[id]
	switch {
	case uid == "":
		return session.ErrInvalidUID, nil
	case ms.uid == uid:
		return nil, nil
	case ms.uid != "":
		return session.ErrAlreadyBound, nil
	case c.single && len(c.liveByUID(uid)) > 0:
		return session.ErrSingleSession, nil
	}
	ms.uid = uid
	ms.rev++
	c.binds++
	ms.boundAt = c.binds
	return nil, []string{fmt.Sprintf("bind %d %s", id, uid)}
}

func (c *modelChecker) unbind(id session.ID, uid string, handle bool) (error, []string) {
	if err := c.gone(id, handle); err != nil {
		return err, nil
	}
	ms := c.sessions[id]
	switch {
	case uid == "":
		return session.ErrInvalidUID, nil
	case ms.uid != uid:
		return session.ErrNotBound, nil
	}
	ms.uid = ""
	ms.rev++
	return nil, []string{fmt.Sprintf("unbind %d %s", id, uid)}
}

// push predicts a Push or PushAll (ifRev 0) or their conditional forms: the error and
// the revision returned.
func (c *modelChecker) push(id session.ID, all session.Settings, ifRev uint64) (error, uint64) {
	if err := c.gone(id, false); err != nil {
		return err, 0
	}
	for _, raw := range all {
		if raw != nil && !json.Valid(raw) {
			return session.ErrInvalidValue, 0
		}
	}
	ms := c.sessions[id]
	if ifRev != 0 && ifRev != ms.rev {
		return session.ErrRevisionConflict, ms.rev
	}
	next := maps.Clone(ms.settings)
	for k, raw := range all {
		if raw == nil {
			delete(next, k)
		} else {
			next[k] = string(raw)
		}
	}
	if overBudget(ms.settings, next) {
		return session.ErrSettingsBudget, ms.rev
	}
	if !maps.Equal(ms.settings, next) {
		ms.rev++
	}
	ms.settings = next
	return nil, ms.rev
}

// overBudget reports whether changing settings from old to next grows them past
// modelBudget, measured as json.Marshal measures them.
func overBudget(old, next map[string]string) bool {
	size := func(m map[string]string) int {
		raw := map[string]json.RawMessage{}
		for k, v := range m {
			raw[k] = json.RawMessage(v)
		}
		b, err := json.Marshal(raw)
		if err != nil {
			panic(err)
		}
		return len(b)
	}
	n := size(next)
	return n > modelBudget && n > size(old)
}

func (c *modelChecker) set(ms *modelSession, key string, v any) error {
	if ms.closed {
		return session.ErrSessionClosed
	}
	b, err := json.Marshal(v)
	if err != nil {
		return session.ErrInvalidValue
	}
	next := maps.Clone(ms.settings)
	next[key] = string(b)
	if overBudget(ms.settings, next) {
		return session.ErrSettingsBudget
	}
	if !maps.Equal(ms.settings, next) {
		ms.rev++
	}
	ms.settings = next
	return nil
}

func (c *modelChecker) close(ms *modelSession, reason string, kick bool) []string {
	if ms == nil || ms.closed {
		return nil
	}
	if kick && reason == "" {
		reason = "kick"
	}
	ms.closed = true
	id := ms.s.ID()
	events := []string{fmt.Sprintf("closed %d %s", id, reason)}
	if kick {
		ms.kicks = append(ms.kicks, reason)
		events = append(events, fmt.Sprintf("kick %d %s", id, reason))
	}
	return append(events, fmt.Sprintf("close %d", id))
}

// liveByUID returns uid's live sessions in bind order.
func (c *modelChecker) liveByUID(uid string) []session.ID {
	var out []session.ID
	for _, id := range c.order {
		if ms := c.sessions[id]; !ms.closed && ms.uid == uid && uid != "" {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b session.ID) int { return c.sessions[a].boundAt - c.sessions[b].boundAt })
	return out
}

func (c *modelChecker) info(ms *modelSession) session.Info {
	info := session.Info{ID: ms.s.ID(), FrontendID: fid, UID: ms.uid, Revision: ms.rev}
	if len(ms.settings) > 0 {
		info.Settings = session.Settings{}
		for k, v := range ms.settings {
			info.Settings[k] = json.RawMessage(v)
		}
	}
	return info
}

// checkSession compares everything the store says about id with the model.
func (c *modelChecker) checkSession(op string, id session.ID) {
	ms := c.sessions[id]
	got := c.st.Get(id)
	if ms == nil || ms.closed {
		if got != nil {
			c.fail("%s: Get(%d) found a session the model says is gone", op, id)
		}
		if _, err := c.st.Export(id); !errors.Is(err, session.ErrSessionNotFound) {
			c.fail("%s: Export(%d) = %v, want ErrSessionNotFound", op, id, err)
		}
		if ms == nil {
			return
		}
	} else {
		if got != ms.s {
			c.fail("%s: Get(%d) = %v, want the created session", op, id, got)
		}
		info, err := c.st.Export(id)
		if err != nil {
			c.fail("%s: Export(%d): %v", op, id, err)
		}
		if want := c.info(ms); !reflect.DeepEqual(want, info) {
			c.fail("%s: Store.Export(%d) (-model +store):\n%s", op, id, cmp.Diff(want, info))
		}
	}
	if want, got := c.info(ms), ms.s.Export(); !reflect.DeepEqual(want, got) {
		c.fail("%s: Session.Export(%d) (-model +store):\n%s", op, id, cmp.Diff(want, got))
	}
	if ms.s.UID() != ms.uid || ms.s.Closed() != ms.closed || ms.s.Revision() != ms.rev {
		c.fail("%s: session %d has uid %q closed %v revision %d, model %q %v %d",
			op, id, ms.s.UID(), ms.s.Closed(), ms.s.Revision(), ms.uid, ms.closed, ms.rev)
	}
	for _, k := range modelKeys {
		raw, ok := ms.s.Raw(k)
		want, wantOK := ms.settings[k]
		if ok != wantOK || string(raw) != want {
			c.fail("%s: Raw(%q) of %d = %s, %v; model %s, %v", op, k, id, raw, ok, want, wantOK)
		}
	}
	if kicks, closes := ms.conn.calls(); !cmp.Equal(kicks, ms.kicks, cmpopts.EquateEmpty()) ||
		closes != map[bool]int{false: 0, true: 1}[ms.closed] {
		c.fail("%s: conn of %d got kicks %q closes %d; model kicks %q closed %v",
			op, id, kicks, closes, ms.kicks, ms.closed)
	}
}

func (c *modelChecker) checkUID(op, uid string) {
	want := c.liveByUID(uid)
	if got := ids(c.st.GetByUID(uid)); !cmp.Equal(want, got, cmpopts.EquateEmpty()) {
		c.fail("%s: GetByUID(%q) = %v, model %v", op, uid, got, want)
	}
	var infos []session.Info
	for _, id := range want {
		infos = append(infos, c.info(c.sessions[id]))
	}
	if got := c.st.ExportByUID(uid); !reflect.DeepEqual(infos, got) {
		c.fail("%s: ExportByUID(%q) (-model +store):\n%s", op, uid, cmp.Diff(infos, got))
	}
}

func (c *modelChecker) checkFinal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live, bound []session.ID
	uids := map[string]bool{}
	for _, id := range c.order {
		c.checkSession("final", id)
		if ms := c.sessions[id]; !ms.closed {
			live = append(live, id)
			if ms.uid != "" {
				bound = append(bound, id)
				uids[ms.uid] = true
			}
		}
	}
	for _, uid := range modelUIDs {
		c.checkUID("final", uid)
	}
	if c.st.Len() != len(live) {
		c.fail("final: Len() = %d, model %d", c.st.Len(), len(live))
	}
	var ranged, rangedBound []session.ID
	c.st.Range(func(s *session.Session) bool { ranged = append(ranged, s.ID()); return true })
	c.st.RangeBound(func(s *session.Session) bool { rangedBound = append(rangedBound, s.ID()); return true })
	slices.Sort(ranged)
	slices.Sort(rangedBound)
	if !cmp.Equal(live, ranged, cmpopts.EquateEmpty()) || !cmp.Equal(bound, rangedBound, cmpopts.EquateEmpty()) {
		c.fail("final: Range %v / RangeBound %v, model live %v / bound %v", ranged, rangedBound, live, bound)
	}
	if n, e := session.UIDIndexSize(c.st); n != len(uids) || e != len(bound) {
		c.fail("final: uid index holds %d uids / %d entries, model %v / %d",
			n, e, slices.Sorted(maps.Keys(uids)), len(bound))
	}
	c.t.Logf("%d sessions created, %d live, %d bound", len(c.order), len(live), len(bound))
}

// read walks the store without the model's mutex until stop closes, checking what holds
// at any instant.
func (c *modelChecker) read(r *rand.Rand, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		switch r.IntN(4) {
		case 0:
			c.st.Range(func(s *session.Session) bool { s.Raw("k1"); return r.IntN(50) != 0 })
		case 1:
			c.st.RangeBound(func(s *session.Session) bool { s.UID(); return true })
		case 2:
			list := ids(c.st.GetByUID(modelUIDs[r.IntN(len(modelUIDs))]))
			slices.Sort(list)
			if len(slices.Compact(list)) != len(list) {
				c.fail("GetByUID returned a session twice: %v", list)
			}
		case 3:
			id := session.ID(r.Uint64N(c.maxID.Load()+2) + 1)
			info, err := c.st.Export(id)
			if err == nil && (info.ID != id || info.FrontendID != fid) {
				c.fail("Export(%d) = %+v", id, info)
			}
			if err != nil && !errors.Is(err, session.ErrSessionNotFound) {
				c.fail("Export(%d): %v", id, err)
			}
		}
	}
}
