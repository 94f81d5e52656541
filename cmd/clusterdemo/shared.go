package main

import (
	"context"
	"errors"

	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// doUpdate increments the counter of one of the shared sessions, one per
// frontend, which every worker of every backend updates at once. Update is
// the optimistic loop: read, change, push only if the session is still at
// the revision read, and on a conflict read and change again. So writes
// conflict, are detected and retried, and no acknowledged increment may be
// lost: at the end every counter equals the increments acknowledged.
func (w *worker) doUpdate() {
	fe := w.rng.IntN(len(w.frontends))
	fid := w.frontends[fe]
	if w.variant() < 10 {
		sid := w.unknownSID()
		_, err := w.call(opUpdate, func(ctx context.Context) error {
			return w.svc.Update(ctx, fid, sid, func(*sessionremote.BackendSession) error { return nil })
		})
		w.expect(opUpdate, err, sessionremote.ErrSessionNotFound, "Update of unknown sid %d on %s", sid, fid)
		return
	}
	runs := 0
	_, err := w.call(opUpdate, func(ctx context.Context) error {
		return w.svc.Update(ctx, fid, w.shared[fe], func(s *sessionremote.BackendSession) error {
			runs++
			var n int
			if _, err := s.Get("counter", &n); err != nil {
				return err
			}
			return s.Set("counter", n+1)
		})
	})
	if errors.Is(err, sessionremote.ErrRevisionConflict) {
		// Every try lost its race to other workers: nothing was written.
		w.conflicts += runs
		w.gaveUp++
		w.expect(opUpdate, err, sessionremote.ErrRevisionConflict, "Update of shared sid %d on %s", w.shared[fe], fid)
		return
	}
	if w.expect(opUpdate, err, nil, "Update of shared sid %d on %s", w.shared[fe], fid) {
		w.increments[fe]++
		w.conflicts += runs - 1
	}
}

// verifyShared checks every shared session's counter against the
// increments the workers had acknowledged.
func verifyShared(c *cluster, workers []*worker, n int, rep *Report) {
	for fe := range n {
		f := c.frontends[fe]
		want := 0
		for _, w := range workers {
			want += w.increments[fe]
		}
		var got int
		_, err := f.store.Get(f.shared).Get("counter", &got)
		rep.Checks.check(err == nil && got == want,
			"%s's shared session counts %d increments (err %v), the workers had %d acknowledged", f.id, got, err, want)
		rep.Increments += want
	}
	for _, w := range workers {
		rep.Conflicts += w.conflicts
		rep.GaveUp += w.gaveUp
	}
}
