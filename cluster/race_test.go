package cluster_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/cluster"
)

// Two servers that join under one id at the same instant both pass the
// holder check. The later start keeps the id, or, with equal starts, the
// greater incarnation; the other gives it up with ErrDuplicateID, and every
// view ends up showing the winner.
func TestDuplicateRaceTieBreak(t *testing.T) {
	t.Parallel()
	ns := startNATS(t)
	t0 := time.Now()
	low, high := strings.Repeat("1", 32), strings.Repeat("e", 32)
	for _, c := range []struct {
		name           string
		aStart, bStart time.Time
		aInc, bInc     string
		wantWinner     string // "a" or "b"
	}{
		{"later start wins over a greater incarnation", t0, t0.Add(time.Millisecond), high, low, "b"},
		{"later start wins, the other way round", t0.Add(time.Millisecond), t0, low, high, "a"},
		{"equal starts: the greater incarnation wins", t0, t0, high, low, "a"},
		{"equal starts, the other way round", t0, t0, low, high, "b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, ns.URL())
			v1, v2 := e.view(), e.view()
			a, _ := e.join(cluster.Info{ID: "room-1", Type: "room", Addr: "127.0.0.1:1"}, cluster.RaceJoin(c.aStart, c.aInc))
			b, _ := e.join(cluster.Info{ID: "room-1", Type: "room", Addr: "127.0.0.1:2"}, cluster.RaceJoin(c.bStart, c.bInc))
			winner, loser := a, b
			if c.wantWinner == "b" {
				winner, loser = b, a
			}
			select {
			case <-loser.Done():
			case <-time.After(wait):
				t.Fatal("the loser never gave the id up")
			}
			if !errors.Is(loser.Err(), cluster.ErrDuplicateID) {
				t.Errorf("loser's Err = %v, want ErrDuplicateID", loser.Err())
			}
			t.Logf("loser: %v", loser.Err())
			select {
			case <-winner.Done():
				t.Fatalf("the winner ended too: %v", winner.Err())
			default:
			}
			want := winner.Member().Incarnation
			for i, v := range []*cluster.View{v1, v2} {
				waitFor(t, "the winner shown", func() bool {
					m, ok := v.Member("room-1")
					return ok && m.Incarnation == want
				})
				if got := len(v.Members()); got != 1 {
					t.Errorf("view %d lists %d members", i+1, got)
				}
			}
			// Heartbeats go on; the winner stays.
			time.Sleep(e.bound / 2)
			if m, ok := v1.Member("room-1"); !ok || m.Incarnation != want {
				t.Errorf("after a while the view shows %v %v", m, ok)
			}
		})
	}
}

// Four servers joining under one id at once, with the real holder check:
// exactly one keeps it; each other fails to join or gives the id up.
func TestDuplicateRaceReal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	const n = 4
	type result struct {
		r   *cluster.Registration
		err error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		nc := connect(t, e.url)
		go func() {
			<-start
			r, err := cluster.Join(ctxFor(t, wait), nc, cluster.Info{ID: "room-1", Type: "room"}, e.joinOpts()...)
			results <- result{r, err}
		}()
	}
	close(start)
	var joined []*cluster.Registration
	for range n {
		res := <-results
		switch {
		case res.err == nil:
			t.Cleanup(res.r.Close)
			joined = append(joined, res.r)
		case !errors.Is(res.err, cluster.ErrDuplicateID):
			t.Fatalf("join: %v", res.err)
		}
	}
	t.Logf("%d of %d joins passed the check", len(joined), n)
	var alive *cluster.Registration
	waitFor(t, "one registration left", func() bool {
		alive = nil
		live := 0
		for _, r := range joined {
			select {
			case <-r.Done():
				if !errors.Is(r.Err(), cluster.ErrDuplicateID) {
					t.Fatalf("ended with %v", r.Err())
				}
			default:
				live++
				alive = r
			}
		}
		return live == 1
	})
	waitFor(t, "the survivor shown", func() bool {
		m, ok := v.Member("room-1")
		return ok && m.Incarnation == alive.Member().Incarnation
	})
}
