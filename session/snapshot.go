package session

import "strconv"

// Info is a snapshot of a session: what a backend sees, pomelo's BackendSession export.
// An Info from [Store.Export], [Store.ExportByUID] or [Session.Export] never aliases the
// store: its Settings are a deep copy. One from [Store.ExportShared] or
// [Store.ExportSharedByUID] shares its Settings, read only.
//
// Revision is the session's revision when the snapshot was taken (see
// [Session.Revision]); 0 means unknown, as in a snapshot from a frontend that predates
// revisions.
type Info struct {
	ID         ID     `json:"id"`
	FrontendID string `json:"frontendId"`
	// Incarnation is the run of the frontend the session lives in (see
	// [WithIncarnation]); empty when the frontend names none.
	Incarnation string   `json:"incarnation,omitempty"`
	UID         string   `json:"uid,omitempty"`
	Revision    uint64   `json:"revision,omitempty"`
	Settings    Settings `json:"settings,omitempty"`
}

// Ref names one session of one run of a frontend: what a backend keeps to reach a
// session later. A Ref with an incarnation never reaches a session of another run of the
// frontend, even one with the same id.
type Ref struct {
	FrontendID  string `json:"frontendId"`
	Incarnation string `json:"incarnation,omitempty"`
	ID          ID     `json:"id"`
}

// Ref returns the reference of the session info is a snapshot of.
func (info Info) Ref() Ref {
	return Ref{FrontendID: info.FrontendID, Incarnation: info.Incarnation, ID: info.ID}
}

// EncodedSize returns the length of info's JSON encoding by encoding/json, computed
// without encoding it: one pass over the keys of its settings, none over their values.
// Like [Settings.EncodedSize] it is exact for an Info from the store.
func (info Info) EncodedSize() int {
	n := len(`{"id":`) + uintLen(uint64(info.ID)) + len(`,"frontendId":`) + quotedLen(info.FrontendID)
	if info.Incarnation != "" {
		n += len(`,"incarnation":`) + quotedLen(info.Incarnation)
	}
	if info.UID != "" {
		n += len(`,"uid":`) + quotedLen(info.UID)
	}
	if info.Revision != 0 {
		n += len(`,"revision":`) + uintLen(info.Revision)
	}
	if len(info.Settings) > 0 {
		n += len(`,"settings":`) + info.Settings.EncodedSize()
	}
	return n + len(`}`)
}

func uintLen(v uint64) int {
	var buf [20]byte
	return len(strconv.AppendUint(buf[:0], v, 10))
}

// view is one version of a session as its exports see it. A published view is never
// modified: a change to the session drops it, and the next export publishes a new one.
// So any number of readers share one view without a lock and without a copy, and a read
// waits for a writer only when it builds the view, which takes constant time.
type view struct {
	uid    string
	rev    uint64
	closed bool
	// settings is the session's settings map at the time of the view. The session
	// stops writing to a map once a view holds it (settingsState.shared): it copies the
	// map before its next settings change instead.
	settings Settings
}

// snapshot returns the session's current view, publishing one if a change dropped it.
func (s *Session) snapshot() *view {
	if v := s.view.Load(); v != nil {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.view.Load(); v != nil {
		return v
	}
	v := &view{rev: s.rev, closed: s.closed}
	if s.bound != nil {
		v.uid = s.bound.uid
	}
	if s.set != nil {
		v.settings = s.set.m
		s.set.shared = true
	}
	s.view.Store(v)
	return v
}

// info returns the Info of view v of session s, sharing v's settings.
func (v *view) info(s *Session) Info {
	return Info{ID: s.id, FrontendID: s.store.frontendID, Incarnation: s.store.incarnation, UID: v.uid, Revision: v.rev, Settings: v.settings}
}
