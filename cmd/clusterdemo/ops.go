package main

import (
	"context"
	"encoding/json"
	"math"
	"slices"

	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// The eight operations. Each picks one of its cases, the call that should
// succeed or one of its deliberate error paths, predicts the outcome from
// the model, makes the call and, when it succeeds, updates the model.

// getUnknown looks up a session id no frontend has.
func (w *worker) getUnknown() {
	fid, sid := w.frontends[w.rng.IntN(len(w.frontends))], w.unknownSID()
	_, err := w.call(opGet, func(ctx context.Context) error { _, err := w.svc.Get(ctx, fid, sid); return err })
	w.expect(opGet, err, sessionremote.ErrSessionNotFound, "unknown sid %d on %s", sid, fid)
}

func (w *worker) doGet() {
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opGet, func(ctx context.Context, fid string) error { _, err := w.svc.Get(ctx, fid, 1); return err })
	case v < 8:
		w.getUnknown()
	case v < 16 && w.pickDead() != nil:
		s := w.pickDead()
		_, err := w.call(opGet, func(ctx context.Context) error { _, err := w.svc.Get(ctx, w.fid(s), s.sid); return err })
		w.expect(opGet, err, sessionremote.ErrSessionNotFound, "kicked sid %d on %s", s.sid, w.fid(s))
	default:
		w.get(w.pickLive())
	}
}

func (w *worker) doGetByUID() {
	fe := w.rng.IntN(len(w.frontends))
	fid := w.frontends[fe]
	var list []*sessionremote.BackendSession
	lookup := func(uid string) error {
		_, err := w.call(opGetByUID, func(ctx context.Context) (err error) {
			list, err = w.svc.GetByUID(ctx, fid, uid)
			return err
		})
		return err
	}
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opGetByUID, func(ctx context.Context, fid string) error { _, err := w.svc.GetByUID(ctx, fid, "u"); return err })
	case v < 7:
		w.expect(opGetByUID, lookup(""), sessionremote.ErrInvalidUID, "empty uid on %s", fid)
	case v < 12:
		if w.expect(opGetByUID, lookup(w.nobody), nil, "unbound uid %q on %s", w.nobody, fid) {
			w.check(len(list) == 0, "GetByUID unbound uid %q on %s: got %d sessions, want none", w.nobody, fid, len(list))
		}
	default:
		uid := w.pickUID()
		if !w.expect(opGetByUID, lookup(uid), nil, "uid %q on %s", uid, fid) {
			return
		}
		want := w.boundTo(uid, fe)
		got := make([]session.ID, len(list))
		for i, bs := range list {
			got[i] = bs.ID()
		}
		wantIDs := make([]session.ID, len(want))
		for i, s := range want {
			wantIDs[i] = s.sid
		}
		if !w.check(slices.Equal(got, wantIDs), "GetByUID %q on %s: got sids %v, want %v", uid, fid, got, wantIDs) {
			return
		}
		for i, bs := range list {
			if !w.checkSnapshot(want[i], bs) {
				return
			}
		}
	}
}

// missing calls o on a session that is not there — an unknown sid when
// unknown is true or no session has been kicked yet, else one of this
// worker's kicked sessions — and checks it fails with ErrSessionNotFound.
func (w *worker) missing(o op, unknown bool, f func(ctx context.Context, fid string, sid session.ID) error) {
	fid, sid, what := w.frontends[w.rng.IntN(len(w.frontends))], w.unknownSID(), "unknown"
	if s := w.pickDead(); !unknown && s != nil {
		fid, sid, what = w.fid(s), s.sid, "kicked"
	}
	_, err := w.call(o, func(ctx context.Context) error { return f(ctx, fid, sid) })
	w.expect(o, err, sessionremote.ErrSessionNotFound, "%s sid %d on %s", what, sid, fid)
}

func (w *worker) doBind() {
	v := w.variant()
	switch {
	case v < 3:
		w.unreachable(opBind, func(ctx context.Context, fid string) error { return w.svc.Bind(ctx, fid, 1, "u") })
		return
	case v < 11:
		w.missing(opBind, v < 6, func(ctx context.Context, fid string, sid session.ID) error {
			return w.svc.Bind(ctx, fid, sid, w.pickUID())
		})
		return
	}
	s := w.pickLive()
	var uid string
	var want error
	switch {
	case v < 15:
		uid, want = "", sessionremote.ErrInvalidUID
	case s.uid == "":
		uid = w.pickUID()
	case w.rng.IntN(2) == 0:
		uid = s.uid // again: no error, no new binding
	default:
		uid, want = w.otherUID(s.uid), sessionremote.ErrAlreadyBound
	}
	var err error
	if w.rng.IntN(10) < 3 {
		// Through a snapshot, whose UID follows a successful Bind.
		bs := w.get(s)
		if bs == nil {
			return
		}
		_, err = w.call(opBind, func(ctx context.Context) error { return bs.Bind(ctx, uid) })
		wantUID := s.uid
		if want == nil {
			wantUID = uid
		}
		w.check(bs.UID() == wantUID, "BackendSession.Bind %q of sid %d: snapshot UID %q, want %q", uid, s.sid, bs.UID(), wantUID)
	} else {
		_, err = w.call(opBind, func(ctx context.Context) error { return w.svc.Bind(ctx, w.fid(s), s.sid, uid) })
	}
	if w.expect(opBind, err, want, "sid %d (uid %q) on %s to %q", s.sid, s.uid, w.fid(s), uid) && want == nil && s.uid == "" {
		s.uid = uid
		w.bindClock++
		s.boundAt = w.bindClock
		w.binds[s.fe]++
	}
}

func (w *worker) doUnbind() {
	v := w.variant()
	switch {
	case v < 3:
		w.unreachable(opUnbind, func(ctx context.Context, fid string) error { return w.svc.Unbind(ctx, fid, 1, "u") })
		return
	case v < 11:
		w.missing(opUnbind, v < 6, func(ctx context.Context, fid string, sid session.ID) error {
			return w.svc.Unbind(ctx, fid, sid, w.pickUID())
		})
		return
	}
	s := w.pickLive()
	var uid string
	var want error
	switch {
	case v < 15:
		uid, want = "", sessionremote.ErrInvalidUID
	case s.uid == "":
		uid, want = w.pickUID(), sessionremote.ErrNotBound
	case w.rng.IntN(4) == 0:
		uid, want = w.otherUID(s.uid), sessionremote.ErrNotBound
	default:
		uid = s.uid
	}
	var err error
	if w.rng.IntN(10) < 3 {
		bs := w.get(s)
		if bs == nil {
			return
		}
		_, err = w.call(opUnbind, func(ctx context.Context) error { return bs.Unbind(ctx, uid) })
		wantUID := s.uid
		if want == nil {
			wantUID = ""
		}
		w.check(bs.UID() == wantUID, "BackendSession.Unbind %q of sid %d: snapshot UID %q, want %q", uid, s.sid, bs.UID(), wantUID)
	} else {
		_, err = w.call(opUnbind, func(ctx context.Context) error { return w.svc.Unbind(ctx, w.fid(s), s.sid, uid) })
	}
	if w.expect(opUnbind, err, want, "sid %d (uid %q) on %s from %q", s.sid, s.uid, w.fid(s), uid) && want == nil {
		s.uid = ""
		w.unbinds[s.fe]++
	}
}

func (w *worker) doPush() {
	key := w.pickKey()
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opPush, func(ctx context.Context, fid string) error { return w.svc.Push(ctx, fid, 1, key, 1) })
	case v < 6:
		// NaN has no JSON: the backend API refuses it before calling.
		s := w.pickLive()
		err := w.svc.Push(context.Background(), w.fid(s), s.sid, key, math.NaN())
		w.expectLocal(opPush, err, sessionremote.ErrInvalidSetting, "of NaN")
	case v < 9:
		fid, sid := w.frontends[w.rng.IntN(len(w.frontends))], w.unknownSID()
		_, err := w.call(opPush, func(ctx context.Context) error { return w.svc.Push(ctx, fid, sid, key, 1) })
		w.expect(opPush, err, sessionremote.ErrSessionNotFound, "to unknown sid %d on %s", sid, fid)
	case v < 14 && w.pickDead() != nil:
		s := w.pickDead()
		_, err := w.call(opPush, func(ctx context.Context) error { return w.svc.Push(ctx, w.fid(s), s.sid, key, 1) })
		w.expect(opPush, err, sessionremote.ErrSessionNotFound, "to kicked sid %d on %s", s.sid, w.fid(s))
	case v < 55:
		s, val := w.pickLive(), w.pickValue()
		_, err := w.call(opPush, func(ctx context.Context) error { return w.svc.Push(ctx, w.fid(s), s.sid, key, val) })
		if w.expect(opPush, err, nil, "%q to sid %d on %s", key, s.sid, w.fid(s)) {
			s.set(key, encode(val))
		}
	case v < 80:
		// Set on a snapshot, then push that key.
		s := w.pickLive()
		bs := w.get(s)
		if bs == nil {
			return
		}
		val := w.pickValue()
		if !w.check(bs.Set(key, val) == nil, "BackendSession.Set %q", key) {
			return
		}
		_, err := w.call(opPush, func(ctx context.Context) error { return bs.Push(ctx, key) })
		if w.expect(opPush, err, nil, "of snapshot key %q to sid %d on %s", key, s.sid, w.fid(s)) {
			s.set(key, encode(val))
		}
	default:
		// Remove on a snapshot, then push the key: the frontend deletes it.
		s := w.pickLive()
		bs := w.get(s)
		if bs == nil {
			return
		}
		bs.Remove(key)
		_, err := w.call(opPush, func(ctx context.Context) error { return bs.Push(ctx, key) })
		if w.expect(opPush, err, nil, "of removed key %q to sid %d on %s", key, s.sid, w.fid(s)) {
			s.set(key, nil)
		}
	}
}

func (w *worker) doPushAll() {
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opPushAll, func(ctx context.Context, fid string) error {
			return w.svc.PushAll(ctx, fid, 1, map[string]any{"k": 1})
		})
	case v < 11:
		w.missing(opPushAll, v < 6, func(ctx context.Context, fid string, sid session.ID) error {
			return w.svc.PushAll(ctx, fid, sid, map[string]any{"k": 1})
		})
	case v < 55:
		// A map of zero to three keys, merged in: keys it does not name stay.
		s := w.pickLive()
		m := make(map[string]any)
		for range w.rng.IntN(4) {
			m[w.pickKey()] = w.pickValue()
		}
		_, err := w.call(opPushAll, func(ctx context.Context) error { return w.svc.PushAll(ctx, w.fid(s), s.sid, m) })
		if w.expect(opPushAll, err, nil, "of %d keys to sid %d on %s", len(m), s.sid, w.fid(s)) {
			for k, val := range m {
				s.set(k, encode(val))
			}
		}
	default:
		// A snapshot changed locally, then pushed: PushAll sends the keys
		// it changed, a key removed locally included, which the frontend
		// deletes.
		s := w.pickLive()
		bs := w.get(s)
		if bs == nil {
			return
		}
		removed := ""
		if keys := bs.Keys(); len(keys) > 0 && w.rng.IntN(3) == 0 {
			removed = keys[w.rng.IntN(len(keys))]
			bs.Remove(removed)
		}
		set := make(map[string]json.RawMessage)
		for range 1 + w.rng.IntN(2) {
			key, val := w.pickKey(), w.pickValue()
			if !w.check(bs.Set(key, val) == nil, "BackendSession.Set %q", key) {
				return
			}
			set[key] = encode(val)
		}
		_, err := w.call(opPushAll, func(ctx context.Context) error { return bs.PushAll(ctx) })
		if w.expect(opPushAll, err, nil, "of a snapshot of sid %d on %s", s.sid, w.fid(s)) {
			if removed != "" {
				s.set(removed, nil)
			}
			for k, raw := range set { // a key set again after its removal is set
				s.set(k, raw)
			}
		}
	}
}

func (w *worker) doKickBySID() {
	reason := w.reason()
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opKickBySID, func(ctx context.Context, fid string) error { return w.svc.KickBySID(ctx, fid, 1, reason) })
	case v < 8:
		// Kicking a session that is not there is not an error.
		fid, sid := w.frontends[w.rng.IntN(len(w.frontends))], w.unknownSID()
		_, err := w.call(opKickBySID, func(ctx context.Context) error { return w.svc.KickBySID(ctx, fid, sid, reason) })
		w.expect(opKickBySID, err, nil, "unknown sid %d on %s", sid, fid)
	case v < 18 && w.pickDead() != nil:
		// Nor is kicking it again; its connection must not hear twice.
		s := w.pickDead()
		_, err := w.call(opKickBySID, func(ctx context.Context) error { return w.svc.KickBySID(ctx, w.fid(s), s.sid, reason) })
		w.expect(opKickBySID, err, nil, "kicked sid %d on %s again", s.sid, w.fid(s))
	default:
		s := w.pickLive()
		_, err := w.call(opKickBySID, func(ctx context.Context) error { return w.svc.KickBySID(ctx, w.fid(s), s.sid, reason) })
		if w.expect(opKickBySID, err, nil, "sid %d on %s", s.sid, w.fid(s)) {
			w.kicked(s, reason)
		}
	}
}

func (w *worker) doKickByUID() {
	reason := w.reason()
	fe := w.rng.IntN(len(w.frontends))
	fid := w.frontends[fe]
	kick := func(uid string) error {
		_, err := w.call(opKickByUID, func(ctx context.Context) error { return w.svc.KickByUID(ctx, fid, uid, reason) })
		return err
	}
	switch v := w.variant(); {
	case v < 3:
		w.unreachable(opKickByUID, func(ctx context.Context, fid string) error { return w.svc.KickByUID(ctx, fid, "u", reason) })
	case v < 8:
		w.expect(opKickByUID, kick(""), sessionremote.ErrInvalidUID, "empty uid on %s", fid)
	case v < 13:
		w.expect(opKickByUID, kick(w.nobody), nil, "unbound uid %q on %s", w.nobody, fid)
	default:
		uid := w.pickUID()
		if w.expect(opKickByUID, kick(uid), nil, "uid %q on %s", uid, fid) {
			for _, s := range w.boundTo(uid, fe) {
				w.kicked(s, reason)
			}
		}
	}
}
