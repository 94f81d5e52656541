package main

import (
	"errors"
	"slices"
	"strings"

	"github.com/sessionrpc/sessionrpc/session"
)

// verify compares what the frontends hold with what the workers' models say
// they must hold, once the workload has stopped: every session in its store,
// every connection's kicks and closes, every uid's sessions, and per
// frontend the session count and the hook counts. It looks at the stores
// directly, not through RPC, and counts its checks in rep.
//
// A worker that failed stopped trusting its model, so its sessions and uids
// are not checked, nor the per-frontend totals they feed; the run has
// failed anyway.
func verify(c *cluster, workers []*worker, n int, rep *Report) {
	t := &rep.Checks
	trusted := true
	for _, w := range workers {
		w.receive() // the reconnects of the last kicks
		trusted = trusted && !w.failed
	}
	for _, w := range workers {
		for _, s := range w.all {
			rep.ExpectedKicks += boolInt(s.closed)
		}
		if w.failed {
			continue
		}
		for _, s := range w.all {
			verifySession(c.frontends[s.fe], w, s, t)
		}
		for _, f := range c.frontends[:n] {
			for _, uid := range append(slices.Clone(w.uids), w.nobody) {
				verifyUID(f, w, uid, t)
			}
		}
	}
	for _, f := range c.frontends[:n] {
		f.mu.Lock()
		for _, conn := range f.conns {
			for _, e := range conn.seen() {
				if strings.HasPrefix(e, "kick:") {
					rep.Kicks++
				}
			}
		}
		f.mu.Unlock()
		rep.Reconnects += f.connCount() - c.cfg.Clients
		if trusted {
			verifyTotals(f, workers, c.cfg.Clients, t)
		}
	}
}

// verifySession checks one session in its store and its connection.
func verifySession(f *frontend, w *worker, s *sessionModel, t *tally) {
	got := f.store.Get(s.sid)
	info, err := f.store.Export(s.sid)
	conn := f.conn(s.sid)
	if !t.check(conn != nil, "sid %d on %s (%s) has no connection", s.sid, f.id, w.name) {
		return
	}
	events := conn.seen()
	if s.closed {
		t.check(got == nil && errors.Is(err, session.ErrSessionNotFound),
			"sid %d on %s (%s) was kicked, but the store still holds %v", s.sid, f.id, w.name, snapshot(info))
		want := []string{"kick:" + s.kick, "close"}
		t.check(slices.Equal(events, want), "sid %d on %s (%s): its connection was told %q, want %q", s.sid, f.id, w.name, events, want)
		return
	}
	t.check(got != nil && !got.Closed() && err == nil && info.ID == s.sid && info.FrontendID == f.id &&
		info.UID == s.uid && settingsEqual(info.Settings, s.settings),
		"sid %d on %s (%s): the store holds %v (err %v), want %v", s.sid, f.id, w.name, snapshot(info), err, snapshot(w.info(s)))
	t.check(len(events) == 0, "sid %d on %s (%s) is open, but its connection was told %q", s.sid, f.id, w.name, events)
}

// verifyUID checks the store's uid index for one of w's uids.
func verifyUID(f *frontend, w *worker, uid string, t *tally) {
	var got, want []session.ID
	for _, s := range f.store.GetByUID(uid) {
		got = append(got, s.ID())
	}
	for _, s := range w.boundTo(uid, f.index) {
		want = append(want, s.sid)
	}
	t.check(slices.Equal(got, want), "uid %q on %s (%s): the store lists sids %v, want %v", uid, f.id, w.name, got, want)
}

// verifyTotals checks what one frontend holds against the sum of the
// models: open sessions, connections ever made, and the hooks' counts.
func verifyTotals(f *frontend, workers []*worker, clients int, t *tally) {
	var open, all, binds, unbinds, kicks int
	for _, w := range workers {
		for _, s := range w.all {
			if s.fe == f.index {
				all++
				open += boolInt(!s.closed)
			}
		}
		binds += w.binds[f.index]
		unbinds += w.unbinds[f.index]
		kicks += w.kicks[f.index]
	}
	t.check(f.store.Len() == open+1 && open == clients,
		"%s holds %d sessions; the models have %d open and one is shared, and every one of its %d clients should have one",
		f.id, f.store.Len(), open, clients)
	t.check(f.connCount() == all, "%s has had %d connections; the models know %d", f.id, f.connCount(), all)
	t.check(f.binds.Load() == int64(binds) && f.unbinds.Load() == int64(unbinds) && f.closes.Load() == int64(kicks),
		"%s's hooks counted %d binds, %d unbinds, %d closes; the models made %d, %d and %d",
		f.id, f.binds.Load(), f.unbinds.Load(), f.closes.Load(), binds, unbinds, kicks)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
