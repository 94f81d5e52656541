package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	membership "github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/internal/roomhandler"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// The operations that cross the cluster: a client's message forwarded by
// its frontend to a room server whose handler acts through the session it
// was handed (pomelo's handler path), finding a user wherever they are
// (the uid index), and kicking a user on every frontend at once.

// doForward plays one of the worker's clients: its frontend forwards a
// join request to a room server, chosen by the session's uid, whose
// handler binds the session (unless it is bound already) and pushes the
// room to it, through the session that travelled with the call, with no
// lookup of its own.
func (w *worker) doForward() {
	s := w.pickLive()
	f := w.cluster.frontends[s.fe]
	if w.variant() < 10 {
		// A route whose server type nobody serves: Unavailable at once,
		// never sent.
		_, err := w.call(opForward, func(ctx context.Context) error {
			_, err := f.forwardTo(ctx, s.sid, "lobby.lobbyHandler.enter", []byte(`{}`))
			return err
		})
		w.expect(opForward, err, membership.ErrNoServer, "forward to a server type nobody serves, from sid %d on %s", s.sid, f.id)
		return
	}
	uid := s.uid
	req := roomhandler.JoinRequest{UID: w.pickUID(), Room: w.rng.IntN(1000)}
	if uid == "" {
		uid = req.UID
	}
	msg, err := json.Marshal(req)
	if err != nil {
		panic(err) // a struct of a string and an int
	}
	var reply roomhandler.JoinReply
	_, err = w.call(opForward, func(ctx context.Context) error {
		raw, err := f.forward(ctx, s.sid, msg)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &reply)
	})
	if !w.expect(opForward, err, nil, "forward of a join for sid %d on %s", s.sid, f.id) {
		return
	}
	if !w.check(reply.Frontend == f.id && reply.SID == s.sid && reply.UID == uid && reply.Room == req.Room,
		"forward for sid %d on %s: the handler saw %+v, want the session bound to %q and room %d", s.sid, f.id, reply, uid, req.Room) {
		return
	}
	w.forwardedTo[reply.Server]++
	if s.uid == "" {
		s.uid = uid
		w.bindClock++
		s.boundAt = w.bindClock
		w.binds[s.fe]++
	}
	if s.settings == nil {
		s.settings = session.Settings{}
	}
	s.settings["room"] = json.RawMessage(fmt.Sprint(req.Room))
}

// doLocate finds one of the worker's uids through the uid index: one read,
// however many frontends. The index lags the stores by a moment; a lookup
// that does not match the model yet must match once every frontend has
// written its changes (Sync).
func (w *worker) doLocate() {
	if w.variant() < 10 {
		_, err := w.call(opLocate, func(ctx context.Context) error { _, err := w.dir.Locate(ctx, ""); return err })
		if !errors.Is(err, presence.ErrNoIndex) {
			w.expect(opLocate, err, presence.ErrInvalidUID, "Locate of an empty uid")
		}
		return
	}
	uid := w.pickUID()
	var locs []presence.Location
	_, err := w.call(opLocate, func(ctx context.Context) (err error) {
		locs, err = w.dir.Locate(ctx, uid)
		return err
	})
	if errors.Is(err, presence.ErrNoIndex) {
		w.expect(opLocate, err, presence.ErrNoIndex, "Locate %q without JetStream", uid)
		return
	}
	if !w.expect(opLocate, err, nil, "Locate %q", uid) {
		return
	}
	if w.located(uid, locs) {
		w.locatedAtOnce++
		return
	}
	w.cluster.syncIndex()
	_, err = w.call(opLocate, func(ctx context.Context) (err error) {
		locs, err = w.dir.Locate(ctx, uid)
		return err
	})
	if w.expect(opLocate, err, nil, "Locate %q after the index caught up", uid) &&
		w.check(w.located(uid, locs), "Locate %q after the index caught up: %v, want %v", uid, locs, w.whereIs(uid)) {
		w.locatedAfterSync++
	}
}

// whereIs returns, from the model, the sids of uid on each frontend, in
// bind order.
func (w *worker) whereIs(uid string) map[string][]session.ID {
	out := make(map[string][]session.ID)
	for fe, fid := range w.frontends {
		for _, s := range w.boundTo(uid, fe) {
			out[fid] = append(out[fid], s.sid)
		}
	}
	return out
}

// located reports whether locs is where the model says uid is.
func (w *worker) located(uid string, locs []presence.Location) bool {
	want := w.whereIs(uid)
	if len(locs) != len(want) {
		return false
	}
	for _, l := range locs {
		if !slices.Equal(l.SIDs, want[l.FrontendID]) || l.Incarnation != w.cluster.frontends[w.index(l.FrontendID)].incarnation {
			return false
		}
	}
	return true
}

func (w *worker) index(fid string) int { return slices.Index(w.frontends, fid) }

// doKickEverywhere kicks one of the worker's uids on every frontend at once,
// through the index (or, without it, by asking every frontend), with a
// reason of its own, and checks each frontend's outcome against the model.
// The index is brought up to date first, so that the model can demand that
// every session of the uid is kicked; Locate measures the lag.
func (w *worker) doKickEverywhere() {
	if w.variant() < 10 {
		_, err := w.call(opKickEverywhere, func(ctx context.Context) error {
			return w.dir.KickByUIDEverywhere(ctx, "", "x").Err()
		})
		w.expect(opKickEverywhere, err, presence.ErrInvalidUID, "KickByUIDEverywhere of an empty uid")
		return
	}
	uid := w.pickUID()
	w.reasons++
	reason := fmt.Sprintf("%s-everywhere-%d", w.name, w.reasons)
	w.cluster.syncIndex()
	var res presence.Result
	_, err := w.call(opKickEverywhere, func(ctx context.Context) error {
		res = w.dir.KickByUIDEverywhere(ctx, uid, reason)
		return res.Err()
	})
	want := w.whereIs(uid)
	outcomes := make(map[string]presence.Outcome)
	for _, o := range res.Frontends {
		outcomes[o.FrontendID] = o
	}
	ok := true
	for _, fid := range w.frontends {
		o, asked := outcomes[fid]
		n := len(want[fid])
		switch {
		case n == 0:
			ok = w.check(!asked || o.Status == presence.None, "KickByUIDEverywhere %q: %s answered %v, it has none of the uid's sessions", uid, fid, o.Status) && ok
		default:
			ok = w.check(asked && o.Status == presence.Done && o.Kicked == n,
				"KickByUIDEverywhere %q: %s answered %+v, want done with its %d sessions", uid, fid, o, n) && ok
		}
	}
	// Frontends no fault touches must all have answered; a dead one may
	// not have.
	if err != nil {
		for _, o := range res.Frontends {
			if o.Status == presence.Unavailable {
				ok = w.check(w.index(o.FrontendID) < 0, "KickByUIDEverywhere %q: %s did not answer: %v", uid, o.FrontendID, o.Err) && ok
			}
		}
	}
	if !ok {
		return
	}
	w.kickedEverywhere++
	for fe := range w.frontends {
		for _, s := range w.boundTo(uid, fe) {
			w.kicked(s, reason)
		}
	}
}

// forward has the frontend forward a client's message for session sid, as
// its client protocol would on a request to a route it does not serve.
func (f *frontend) forward(ctx context.Context, sid session.ID, msg []byte) ([]byte, error) {
	return f.forwardTo(ctx, sid, roomhandler.RoomHandlerJoinRoute, msg)
}

func (f *frontend) forwardTo(ctx context.Context, sid session.ID, route string, msg []byte) ([]byte, error) {
	s := f.store.Get(sid)
	if s == nil {
		return nil, fmt.Errorf("%w: sid %d", sessionremote.ErrSessionNotFound, sid)
	}
	return sessionremote.Forward(ctx, f.router, s, route, msg)
}

// syncIndex waits until every live frontend's index entries reflect its
// store's changes so far.
func (c *cluster) syncIndex() {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c.mu.Lock()
	fs := slices.Clone(c.frontends)
	c.mu.Unlock()
	for _, f := range fs {
		if !f.killed.Load() {
			_ = f.presence.Sync(ctx)
		}
	}
}
