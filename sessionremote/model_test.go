package sessionremote_test

import (
	stdcmp "cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

var modelSeed = flag.Uint64("model.seed", 0, "seed of TestModelThroughRPC (0: random)")

// modelSession is what the reference model knows of one session.
type modelSession struct {
	uid      string
	settings map[string]string
	closed   bool
	kicks    []string // reasons the connection was told
	conn     *conn
	boundAt  int    // when uid was bound, in the worker's binds: getByUid's order
	rev      uint64 // the revision: 1 at creation, +1 per change
}

// worker drives one goroutine's share of the store: its own sessions and its
// own uids, so its model predicts every result exactly while all workers run
// at once, mixing calls through sys.sessionRemote with direct store calls.
type worker struct {
	t      *testing.T
	c      *cluster
	rng    *rand.Rand
	name   string
	single bool
	ids    []session.ID
	m      map[session.ID]*modelSession
	ops    map[string]int
	binds  int
}

func (w *worker) uid() string {
	if w.rng.IntN(20) == 0 {
		return ""
	}
	return w.name + "-u" + strconv.Itoa(w.rng.IntN(4))
}

func (w *worker) pick() session.ID {
	if len(w.ids) == 0 || w.rng.IntN(15) == 0 {
		return session.ID(1 << 40) // a sid no store ever assigns
	}
	return w.ids[w.rng.IntN(len(w.ids))]
}

func (w *worker) live(id session.ID) *modelSession {
	if s := w.m[id]; s != nil && !s.closed {
		return s
	}
	return nil
}

// sessionsOf returns uid's live sessions in bind order.
func (w *worker) sessionsOf(uid string) []session.ID {
	var out []session.ID
	for _, id := range w.ids {
		if s := w.live(id); s != nil && s.uid == uid {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b session.ID) int { return w.m[a].boundAt - w.m[b].boundAt })
	return out
}

func (w *worker) expect(op string, got, want error) {
	w.t.Helper()
	if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
		w.t.Errorf("%s %s: err = %v, model predicts %v", w.name, op, got, want)
	}
}

func (w *worker) step(ctx context.Context) {
	rpc := w.rng.IntN(2) == 0 // half the calls go through the wire
	id := w.pick()
	s := w.live(id)
	var op string
	switch r := w.rng.IntN(100); {
	case r < 10:
		op = "create"
		cn := &conn{}
		ns := w.c.store.Create(cn)
		w.ids = append(w.ids, ns.ID())
		w.m[ns.ID()] = &modelSession{settings: map[string]string{}, conn: cn, rev: 1}
	case r < 30:
		op = "bind"
		uid := w.uid()
		var want error
		switch {
		case s == nil:
			want = sessionremote.ErrSessionNotFound
		case uid == "":
			want = sessionremote.ErrInvalidUID
		case s.uid == uid:
		case s.uid != "":
			want = sessionremote.ErrAlreadyBound
		case w.single && len(w.sessionsOf(uid)) > 0:
			want = sessionremote.ErrSingleSession
		default:
			s.uid = uid
			s.rev++
			w.binds++
			s.boundAt = w.binds
		}
		var err error
		if rpc {
			err = w.c.svc.Bind(ctx, fid, id, uid)
		} else {
			err = w.c.store.Bind(id, uid)
			want = storeError(want)
		}
		w.expect(fmt.Sprintf("bind(%d, %q)", id, uid), err, want)
	case r < 40:
		op = "unbind"
		uid := w.uid()
		if s != nil && s.uid != "" && w.rng.IntN(2) == 0 {
			uid = s.uid
		}
		var want error
		switch {
		case s == nil:
			want = sessionremote.ErrSessionNotFound
		case uid == "":
			want = sessionremote.ErrInvalidUID
		case s.uid != uid:
			want = sessionremote.ErrNotBound
		default:
			s.uid = ""
			s.rev++
		}
		w.expect(fmt.Sprintf("unbind(%d, %q)", id, uid), w.c.svc.Unbind(ctx, fid, id, uid), want)
	case r < 60:
		op = "push"
		key := "k" + strconv.Itoa(w.rng.IntN(5))
		val := strconv.Itoa(w.rng.IntN(1000))
		absent := w.rng.IntN(5) == 0
		var want error
		if s == nil {
			want = sessionremote.ErrSessionNotFound
		} else if absent {
			s.apply(map[string]*string{key: nil})
		} else {
			s.apply(map[string]*string{key: &val})
		}
		setting := sessionremote.Setting{JSON: json.RawMessage(val)}
		if absent {
			setting = sessionremote.Setting{}
		}
		w.expect("push", w.c.raw.Push(ctx, fid, id, key, setting), want)
	case r < 70:
		op = "pushAll"
		all := session.Settings{}
		for range w.rng.IntN(3) {
			all["k"+strconv.Itoa(w.rng.IntN(5))] = json.RawMessage(strconv.Itoa(w.rng.IntN(1000)))
		}
		var want error
		if s == nil {
			want = sessionremote.ErrSessionNotFound
		} else {
			changes := map[string]*string{}
			for k, v := range all {
				changes[k] = new(string(v))
			}
			s.apply(changes)
		}
		w.expect("pushAll", w.c.raw.PushAll(ctx, fid, id, all), want)
	case r < 72:
		op = "pushIf"
		key := "k" + strconv.Itoa(w.rng.IntN(5))
		val := []string{"", "{", strconv.Itoa(w.rng.IntN(1000)), strconv.Itoa(w.rng.IntN(1000))}[w.rng.IntN(4)]
		var ifRev uint64
		if s != nil {
			ifRev = []uint64{0, s.rev, s.rev, s.rev - 1, s.rev + 1}[w.rng.IntN(5)]
		}
		var want error
		var wantRes sessionremote.WriteResult
		switch {
		case s == nil:
			want = sessionremote.ErrSessionNotFound
		case val == "{":
			want = sessionremote.ErrInvalidSetting
		case ifRev != 0 && ifRev != s.rev:
			wantRes = sessionremote.NewWriteResult(false, s.rev)
		case val == "":
			s.apply(map[string]*string{key: nil})
			wantRes = sessionremote.NewWriteResult(true, s.rev)
		default:
			s.apply(map[string]*string{key: &val})
			wantRes = sessionremote.NewWriteResult(true, s.rev)
		}
		res, err := w.c.raw.PushIf(ctx, fid, id, key, val, ifRev)
		w.expect(fmt.Sprintf("pushIf(%d, %q, %q, %d)", id, key, val, ifRev), err, want)
		if err == nil && res != wantRes {
			w.t.Errorf("%s pushIf(%d, %q, %q, %d) = applied %v revision %d, model %v %d", w.name, id, key, val, ifRev,
				res.Applied(), res.Revision(), wantRes.Applied(), wantRes.Revision())
		}
	case r < 74:
		op = "updateSettings"
		set := session.Settings{}
		changes := map[string]*string{}
		var deleted []string
		for range w.rng.IntN(3) {
			k := "k" + strconv.Itoa(w.rng.IntN(5))
			if _, dup := changes[k]; dup {
				continue
			}
			if w.rng.IntN(3) == 0 {
				deleted = append(deleted, k)
				changes[k] = nil
			} else {
				v := strconv.Itoa(w.rng.IntN(1000))
				set[k] = json.RawMessage(v)
				changes[k] = &v
			}
		}
		var ifRev uint64
		if s != nil {
			ifRev = []uint64{0, s.rev, s.rev, s.rev - 1, s.rev + 1}[w.rng.IntN(5)]
		}
		var want error
		var wantRes sessionremote.WriteResult
		switch {
		case s == nil:
			want = sessionremote.ErrSessionNotFound
		case ifRev != 0 && ifRev != s.rev:
			wantRes = sessionremote.NewWriteResult(false, s.rev)
		default:
			s.apply(changes)
			wantRes = sessionremote.NewWriteResult(true, s.rev)
		}
		res, err := w.c.raw.UpdateSettings(ctx, fid, id, set, deleted, ifRev)
		w.expect(fmt.Sprintf("updateSettings(%d, %s, %q, %d)", id, set, deleted, ifRev), err, want)
		if err == nil && res != wantRes {
			w.t.Errorf("%s updateSettings(%d, %s, %q, %d) = applied %v revision %d, model %v %d", w.name, id, set, deleted, ifRev,
				res.Applied(), res.Revision(), wantRes.Applied(), wantRes.Revision())
		}
	case r < 76:
		op = "kickBySid"
		reason := []string{"", "cheat"}[w.rng.IntN(2)]
		if s != nil {
			s.closed = true
			s.kicks = append(s.kicks, stdcmp.Or(reason, "kick"))
		}
		w.expect("kickBySid", w.c.svc.KickBySID(ctx, fid, id, reason), nil)
	case r < 80:
		op = "kickByUid"
		uid := w.name + "-u" + strconv.Itoa(w.rng.IntN(4))
		for _, sid := range w.sessionsOf(uid) {
			w.m[sid].closed = true
			w.m[sid].kicks = append(w.m[sid].kicks, "kick")
		}
		w.expect("kickByUid", w.c.svc.KickByUID(ctx, fid, uid, ""), nil)
	case r < 84:
		op = "disconnect"
		if s != nil {
			s.closed = true
			w.c.store.Get(id).Close("client gone")
		}
	case r < 92:
		op = "get"
		bs, err := w.c.svc.Get(ctx, fid, id)
		if s == nil {
			w.expect("get", err, sessionremote.ErrSessionNotFound)
			break
		}
		w.expect("get", err, nil)
		if diff := cmp.Diff(w.info(id), bs.Export()); diff != "" {
			w.t.Errorf("%s get(%d) (-model +got):\n%s", w.name, id, diff)
		}
	default:
		op = "getByUid"
		uid := w.name + "-u" + strconv.Itoa(w.rng.IntN(4))
		list, err := w.c.svc.GetByUID(ctx, fid, uid)
		w.expect("getByUid", err, nil)
		var got []session.ID
		for _, bs := range list {
			got = append(got, bs.ID())
		}
		if diff := cmp.Diff(w.sessionsOf(uid), got); diff != "" {
			w.t.Errorf("%s getByUid(%q) (-model +got):\n%s", w.name, uid, diff)
		}
	}
	w.ops[op]++
}

// apply merges changes (nil deletes) into the settings, counting a revision
// when they change anything.
func (s *modelSession) apply(changes map[string]*string) {
	next := maps.Clone(s.settings)
	for k, v := range changes {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	if !maps.Equal(next, s.settings) {
		s.rev++
	}
	s.settings = next
}

func (w *worker) info(id session.ID) session.Info {
	s := w.m[id]
	info := session.Info{ID: id, FrontendID: fid, UID: s.uid, Revision: s.rev}
	if len(s.settings) > 0 {
		info.Settings = session.Settings{}
		for k, v := range s.settings {
			info.Settings[k] = json.RawMessage(v)
		}
	}
	return info
}

// finish checks the final state: every live session as the model has it,
// every closed one gone, every connection told exactly what the model says.
func (w *worker) finish() {
	for _, id := range w.ids {
		s := w.m[id]
		got := w.c.store.Get(id)
		if s.closed {
			if got != nil {
				w.t.Errorf("%s: session %d closed in the model but alive in the store", w.name, id)
			}
		} else if got == nil {
			w.t.Errorf("%s: session %d alive in the model but gone from the store", w.name, id)
		} else if diff := cmp.Diff(w.info(id), got.Export()); diff != "" {
			w.t.Errorf("%s: session %d (-model +store):\n%s", w.name, id, diff)
		}
		kicks, closes := s.conn.state()
		wantCloses := 0
		if s.closed {
			wantCloses = 1
		}
		if diff := cmp.Diff(s.kicks, kicks); diff != "" || closes != wantCloses {
			w.t.Errorf("%s: session %d kicks (-model +conn):\n%s closes %d, want %d", w.name, id, diff, closes, wantCloses)
		}
	}
}

// storeError maps a wire sentinel to the store's, for direct calls.
func storeError(err error) error {
	switch err {
	case sessionremote.ErrSessionNotFound:
		return session.ErrSessionNotFound
	case sessionremote.ErrInvalidUID:
		return session.ErrInvalidUID
	case sessionremote.ErrAlreadyBound:
		return session.ErrAlreadyBound
	case sessionremote.ErrSingleSession:
		return session.ErrSingleSession
	}
	return err
}

func TestModelThroughRPC(t *testing.T) {
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("singleSession=%v", single), func(t *testing.T) {
			seed := *modelSeed
			if seed == 0 {
				seed = rand.Uint64()
			}
			t.Logf("seed %d (rerun with -model.seed=%d)", seed, seed)
			var opts []session.Option
			if single {
				opts = append(opts, session.WithSingleSession())
			}
			c := newCluster(t, opts...)
			ctx := bg(t)
			const workers, steps = 8, 1500
			var wg sync.WaitGroup
			all := make([]*worker, workers)
			start := time.Now()
			for i := range all {
				w := &worker{t: t, c: c, rng: rand.New(rand.NewPCG(seed, uint64(i))), name: "w" + strconv.Itoa(i),
					single: single, m: map[session.ID]*modelSession{}, ops: map[string]int{}}
				all[i] = w
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range steps {
						if t.Failed() {
							return
						}
						w.step(ctx)
					}
				}()
			}
			wg.Wait()
			total := map[string]int{}
			for _, w := range all {
				w.finish()
				for k, v := range w.ops {
					total[k] += v
				}
			}
			t.Logf("%d ops in %v: %v", workers*steps, time.Since(start).Round(time.Millisecond), total)
			for _, op := range slices.Sorted(maps.Keys(total)) {
				if total[op] == 0 {
					t.Errorf("op %s never ran", op)
				}
			}
		})
	}
}
