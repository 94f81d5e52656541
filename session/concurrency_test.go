package session_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/session"
)

// Under single-session, of many sessions racing to bind one uid exactly one wins.
func TestConcurrentSingleSessionBind(t *testing.T) {
	st := session.NewStore(fid, session.WithSingleSession())
	const racers = 8
	for round := range 200 {
		uid := fmt.Sprint("u", round)
		var sessions []*session.Session
		for range racers {
			sessions = append(sessions, st.Create(nil))
		}
		var wins, losses atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Go(func() {
				<-start
				var err error
				if i%2 == 0 {
					err = s.Bind(uid)
				} else {
					err = st.Bind(s.ID(), uid)
				}
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, session.ErrSingleSession):
					losses.Add(1)
				default:
					t.Errorf("Bind: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || losses.Load() != racers-1 {
			t.Fatalf("round %d: %d binds won, %d lost; want 1 and %d", round, wins.Load(), losses.Load(), racers-1)
		}
		if n := len(st.GetByUID(uid)); n != 1 {
			t.Fatalf("round %d: uid has %d sessions", round, n)
		}
		st.KickByUID(uid, "")
	}
}

// However Bind and Close race, a closed session is never left in the uid index.
func TestConcurrentBindClose(t *testing.T) {
	for _, single := range []bool{false, true} {
		var opts []session.Option
		if single {
			opts = append(opts, session.WithSingleSession())
		}
		st := session.NewStore(fid, opts...)
		for range 2000 {
			s := st.Create(nil)
			start := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				<-start
				if err := st.Bind(s.ID(), "u"); err != nil && !errors.Is(err, session.ErrSessionNotFound) {
					t.Errorf("Bind: %v", err)
				}
			})
			wg.Go(func() {
				<-start
				s.Close("")
			})
			close(start)
			wg.Wait()
			if list := st.GetByUID("u"); len(list) != 0 {
				t.Fatalf("single=%v: closed session %d left in the uid index", single, list[0].ID())
			}
		}
		if u, e := session.UIDIndexSize(st); u != 0 || e != 0 || st.Len() != 0 {
			t.Fatalf("single=%v: index %d/%d, Len %d after closing everything", single, u, e, st.Len())
		}
	}
}

// TestConcurrentChaos runs random operations from many goroutines with no outside
// serialisation at all, then checks what must hold however they interleaved: each hook
// and connection call happened the right number of times, and the indexes agree with the
// sessions. Under single-session a watcher checks continuously that no uid ever has two
// sessions.
func TestConcurrentChaos(t *testing.T) {
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("single=%v", single), func(t *testing.T) {
			seed := *seedFlag
			if seed == 0 {
				seed = rand.Uint64()
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("seed %d (interleaving is not reproducible)", seed)
				}
			})
			chaos(t, seed, single)
		})
	}
}

func chaos(t *testing.T, seed uint64, single bool) {
	var opts []session.Option
	if single {
		opts = append(opts, session.WithSingleSession())
	}
	st := session.NewStore(fid, opts...)
	var mu sync.Mutex
	binds := map[session.ID]int{}
	unbinds := map[session.ID]int{}
	closedHooks := map[session.ID]int{}
	count := func(m map[session.ID]int) func(*session.Session, string) {
		return func(s *session.Session, _ string) {
			mu.Lock()
			m[s.ID()]++
			mu.Unlock()
		}
	}
	st.OnBind(count(binds))
	st.OnUnbind(count(unbinds))
	st.OnClosed(count(closedHooks))

	var all sync.Map // ID → *fakeConn
	var maxID atomic.Uint64
	pick := func(r *rand.Rand) session.ID { // recent sessions mostly, and some not yet created
		return session.ID(max(1, int64(maxID.Load())-64) + r.Int64N(67))
	}
	uids := []string{"a", "b", "c", "d"}

	deadline := time.Now().Add(400 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for time.Now().Before(deadline) {
				id, uid := pick(r), uids[r.IntN(len(uids))]
				switch r.IntN(9) {
				case 0, 1:
					s, c := create(st, nil)
					all.Store(s.ID(), c)
					maxID.Store(max(maxID.Load(), uint64(s.ID())))
				case 2, 3:
					st.Bind(id, uid)
				case 4:
					st.Unbind(id, uid)
				case 5:
					st.Push(id, "k", []byte(`1`))
				case 6:
					st.KickBySID(id, "")
				case 7:
					if s := st.Get(id); s != nil {
						s.Close("")
					}
				case 8:
					if r.IntN(8) == 0 {
						st.KickByUID(uid, "")
					} else {
						st.Unbind(id, uid)
					}
				}
			}
		})
	}
	if single {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				for _, uid := range uids {
					if n := len(st.GetByUID(uid)); n > 1 {
						t.Errorf("single-session uid %q has %d sessions", uid, n)
						return
					}
				}
			}
		})
	}
	wg.Wait()

	live, bound := 0, 0
	all.Range(func(k, v any) bool {
		id, c := k.(session.ID), v.(*fakeConn)
		kicks, closes := c.calls()
		s := st.Get(id)
		if s == nil {
			if closes != 1 || closedHooks[id] != 1 || len(kicks) > 1 {
				t.Errorf("closed session %d: %d closes, %d closed hooks, %d kicks", id, closes, closedHooks[id], len(kicks))
			}
			return true
		}
		live++
		if closes != 0 || closedHooks[id] != 0 || len(kicks) != 0 || s.Closed() {
			t.Errorf("live session %d: %d closes, %d closed hooks, %d kicks", id, closes, closedHooks[id], len(kicks))
		}
		uid := s.UID()
		want := 0
		if uid != "" {
			want = 1
			bound++
			found := false
			for _, o := range st.GetByUID(uid) {
				found = found || o == s
			}
			if !found {
				t.Errorf("session %d bound to %q is missing from GetByUID", id, uid)
			}
		}
		if binds[id]-unbinds[id] != want {
			t.Errorf("session %d: %d bind hooks, %d unbind hooks, uid %q", id, binds[id], unbinds[id], uid)
		}
		return true
	})
	if st.Len() != live {
		t.Errorf("Len() = %d, %d sessions live", st.Len(), live)
	}
	if _, e := session.UIDIndexSize(st); e != bound {
		t.Errorf("uid index holds %d entries, %d sessions bound", e, bound)
	}
	t.Logf("%d live, %d bound", live, bound)
}
