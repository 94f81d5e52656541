package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// ID identifies a session within one frontend. The store assigns ids from 1 upwards and
// never reuses one while the process lives, so a stale id can only miss, never reach a
// newer session. Across frontends the key is (frontend id, ID).
type ID uint64

// Conn is the connection side of a session, implemented by the connector: it is how the
// store tells a client it was kicked and disconnects it, and how messages pushed to the
// client reach it.
type Conn interface {
	// Kick delivers the kick packet carrying reason. It is called at most once per session,
	// and only when the session is closed by a kick ([Session.Kick], [Store.KickBySID],
	// [Store.KickByUID]).
	Kick(reason string)

	// Close disconnects the client. It is called exactly once per session when it closes,
	// after Kick when the close was a kick.
	Close()

	// Send delivers msg, a message already encoded in the client protocol, to the client
	// on route: a push from the server, such as pomelo's channelService.pushMessageByUids
	// makes. It may be called from any goroutine, concurrently with itself and with Kick
	// and Close; it should queue the message rather than wait for the client, and return
	// an error when it cannot deliver it (the client is gone, its queue is full).
	Send(route string, msg []byte) error
}

// Session is the frontend's handle on one client connection's session, created by
// [Store.Create]. Its methods act on the store's state directly; there is no separate
// frontend copy to push.
//
// Once the session is closed it is read-only: reads return the last state (so closed
// hooks can still see the uid and settings), Set/Bind/Unbind fail with [ErrSessionClosed],
// Remove does nothing.
type Session struct {
	id    ID
	store *Store
	conn  Conn

	// mu serialises changes to the fields below. Bind, Unbind and close also hold it
	// while they change this session's entry in the store's indexes, which is what keeps
	// a closed session out of the uid index however those calls race. It is held for a
	// change of the keys written (plus, for the first settings change after an export, a
	// shallow copy of the settings map) and never while a snapshot is copied or encoded:
	// exports read view.
	mu     sync.Mutex
	closed bool
	// observing is set while a goroutine tells the store's observers of the session's
	// queued events (see deliver); it shares closed's word.
	observing bool
	rev       uint64         // the session's revision: 1 at creation, +1 per change
	bound     *binding       // nil when not bound; kept after close so UID still reports it
	set       *settingsState // nil while the session has no settings

	// view is the session's current snapshot, or nil after a change until the next
	// export publishes one; see snapshot.
	view atomic.Pointer[view]
}

// settingsState is a session's settings and their size.
type settingsState struct {
	m       Settings // never empty: a session whose last setting goes drops its settingsState
	entries int      // the sum of entrySize over m; m's JSON takes objectSize(entries)
	// shared is set once a published view holds m: from then on m is read only, and the
	// next change writes to a copy.
	shared bool
}

// ID returns the session's id.
func (s *Session) ID() ID { return s.id }

// FrontendID returns the id of the frontend server whose store holds the session.
func (s *Session) FrontendID() string { return s.store.frontendID }

// UID returns the uid the session is bound to, or "" when it is not bound. A closed
// session keeps the uid it had when it closed.
func (s *Session) UID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uidLocked()
}

// Revision returns the session's revision: 1 when it is created, one more after each
// change of its uid or settings. A call that changes nothing (binding the uid the
// session has, setting a key to the value it has, removing an absent key) leaves it as
// it is. A closed session keeps the revision it had.
func (s *Session) Revision() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// Closed reports whether the session has been closed by a kick or a disconnect.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Set encodes value as JSON now and stores it under key, replacing any earlier value; a
// later change to value does not reach the session. It fails with [ErrInvalidValue] when
// value cannot be encoded, with [ErrSettingsBudget] when the value would grow the
// settings past the store's budget, and with [ErrSessionClosed] after close.
func (s *Session) Set(key string, value any) error {
	// json.Marshal writes the form the store keeps values in (see Settings).
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("%w: setting %q: %w", ErrInvalidValue, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	}
	return s.setLocked(key, raw)
}

// Get decodes the setting stored under key into into, losslessly (see [DecodeValue]). It
// reports false, leaving into untouched, when there is no such setting.
func (s *Session) Get(key string, into any) (bool, error) {
	s.mu.Lock()
	raw, ok := s.valueLocked(key)
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	// Stored values are replaced, never modified, so decoding after unlocking is safe.
	if err := DecodeValue(raw, into); err != nil {
		return true, fmt.Errorf("session: setting %q: %w", key, err)
	}
	return true, nil
}

// Raw returns a copy of the JSON stored under key, and whether there is such a setting.
func (s *Session) Raw(key string) (json.RawMessage, bool) {
	s.mu.Lock()
	raw, ok := s.valueLocked(key)
	s.mu.Unlock()
	return bytes.Clone(raw), ok
}

// Remove deletes the setting stored under key, if any. (Pomelo's remove deleted a field
// of the session object instead of the setting.)
func (s *Session) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		_ = s.setLocked(key, nil) // a deletion never grows the settings, so never fails
	}
}

// Export returns a snapshot of the session that shares no memory with it.
func (s *Session) Export() Info {
	info := s.snapshot().info(s)
	info.Settings = info.Settings.Clone()
	return info
}

// ExportShared is [Session.Export] without the copy, for callers that only read or
// encode the snapshot: its Settings are shared with the store, read only, as those of
// [Store.ExportShared] are.
func (s *Session) ExportShared() Info {
	return s.snapshot().info(s)
}

// Send delivers msg, a message already encoded in the client protocol, to the session's
// client on route, through [Conn.Send]. It fails with [ErrSessionClosed] once the
// session is closed, with [ErrNoConn] when it was created without a connection, and with
// the connection's error, wrapped, when the connection could not take it.
func (s *Session) Send(route string, msg []byte) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	case s.conn == nil:
		return fmt.Errorf("%w: sid %d", ErrNoConn, s.id)
	}
	if err := s.conn.Send(route, msg); err != nil {
		return fmt.Errorf("session: sid %d: send %s: %w", s.id, route, err)
	}
	return nil
}

// Bind binds the session to uid, as [Store.Bind] does, but reports [ErrSessionClosed]
// rather than [ErrSessionNotFound] when the session has closed.
func (s *Session) Bind(uid string) error {
	bound, err := s.bind(uid)
	if bound {
		s.store.fireBind(s, uid)
	}
	return err
}

// Unbind unbinds the session from uid, as [Store.Unbind] does, but reports
// [ErrSessionClosed] rather than [ErrSessionNotFound] when the session has closed.
func (s *Session) Unbind(uid string) error {
	err := s.unbind(uid)
	if err == nil {
		s.store.fireUnbind(s, uid)
	}
	return err
}

// Kick closes the session because the server wants the client gone: the closed hooks run,
// then the connection's [Conn.Kick] delivers reason ("kick" when empty), then [Conn.Close].
// Kicking or closing a session that is already closed does nothing.
func (s *Session) Kick(reason string) {
	if reason == "" {
		reason = "kick"
	}
	s.close(reason, true)
}

// Close closes the session because its client has gone (the connector's disconnect path):
// the same sequence as [Session.Kick] without [Conn.Kick], and reason passed to the closed
// hooks as given. Closing or kicking a session that is already closed does nothing.
func (s *Session) Close(reason string) {
	s.close(reason, false)
}

func (s *Session) uidLocked() string {
	if s.bound == nil {
		return ""
	}
	return s.bound.uid
}

func (s *Session) valueLocked(key string) (json.RawMessage, bool) {
	if s.set == nil {
		return nil, false
	}
	raw, ok := s.set.m[key]
	return raw, ok
}

func (s *Session) entriesLocked() int {
	if s.set == nil {
		return 0
	}
	return s.set.entries
}

// setLocked stores raw, a value in the store's form, under key, or deletes key when raw
// is nil. Setting a key to the value it has, or deleting an absent key, changes nothing.
// The caller holds s.mu.
func (s *Session) setLocked(key string, raw json.RawMessage) error {
	old, had := s.valueLocked(key)
	if had && bytes.Equal(old, raw) || !had && raw == nil {
		return nil
	}
	entries := s.entriesLocked()
	if had {
		entries -= entrySize(key, old)
	}
	if raw != nil {
		entries += entrySize(key, raw)
	}
	if err := s.checkBudgetLocked(entries); err != nil {
		return err
	}
	if m := s.writableLocked(entries); m != nil {
		if raw == nil {
			delete(m, key)
		} else {
			m[key] = raw
		}
	}
	s.changedLocked()
	return nil
}

// setAllLocked merges changes, values in the store's form, into the settings: a nil
// value deletes its key. Either all of changes is applied or, over the budget, none.
// The caller holds s.mu.
func (s *Session) setAllLocked(changes Settings) error {
	entries := s.entriesLocked()
	changed := false
	for k, raw := range changes {
		old, had := s.valueLocked(k)
		if had && bytes.Equal(old, raw) || !had && raw == nil {
			continue
		}
		changed = true
		if had {
			entries -= entrySize(k, old)
		}
		if raw != nil {
			entries += entrySize(k, raw)
		}
	}
	if !changed {
		return nil
	}
	if err := s.checkBudgetLocked(entries); err != nil {
		return err
	}
	if m := s.writableLocked(entries); m != nil {
		for k, raw := range changes {
			if raw == nil {
				delete(m, k)
			} else {
				m[k] = raw
			}
		}
	}
	s.changedLocked()
	return nil
}

// checkWriteLocked returns why a store write that expects revision ifRevision (0: any)
// cannot be made to the session, with the revision to report: the current one for a
// conflict. The caller holds s.mu.
func (s *Session) checkWriteLocked(ifRevision uint64) (uint64, error) {
	switch {
	case s.closed:
		return 0, notFound(s.id)
	case ifRevision != 0 && ifRevision != s.rev:
		return s.rev, fmt.Errorf("%w: sid %d is at revision %d, not %d", ErrRevisionConflict, s.id, s.rev, ifRevision)
	}
	return 0, nil
}

// changedLocked records a change of the session: a new revision, and a new version for
// the next export to publish.
func (s *Session) changedLocked() {
	s.rev++
	s.view.Store(nil)
}

// checkBudgetLocked fails with ErrSettingsBudget when a change that leaves settings
// entries of the given size grows them past the store's budget.
func (s *Session) checkBudgetLocked(entries int) error {
	budget := s.store.budget
	if budget <= 0 || entries <= s.entriesLocked() || objectSize(entries) <= budget {
		return nil
	}
	return fmt.Errorf("%w: sid %d: settings would take %d bytes, the budget is %d",
		ErrSettingsBudget, s.id, objectSize(entries), budget)
}

// writableLocked prepares the settings for a change that leaves entries of the given
// size: it returns the map to write the change to (a copy when a view holds the current
// one), or nil when the change leaves no settings, which are then already dropped.
func (s *Session) writableLocked(entries int) Settings {
	switch {
	case entries == 0:
		s.set = nil // give the map back: most sessions have no settings
		return nil
	case s.set == nil:
		s.set = &settingsState{m: make(Settings)}
	case s.set.shared:
		s.set = &settingsState{m: maps.Clone(s.set.m)}
	}
	s.set.entries = entries
	return s.set.m
}

// bind does Bind's work and reports whether it made a new binding, which is when the bind
// hooks are due. Its errors are already wrapped with context.
func (s *Session) bind(uid string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch cur := s.uidLocked(); {
	case s.closed:
		return false, fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	case uid == "":
		return false, fmt.Errorf("%w: empty uid for sid %d", ErrInvalidUID, s.id)
	case cur == uid:
		return false, nil
	case cur != "":
		return false, fmt.Errorf("%w: sid %d is bound to %q, not %q", ErrAlreadyBound, s.id, cur, uid)
	}
	// Checking and inserting under the uid's shard lock makes the single-session rule hold
	// against concurrent binds of other sessions to the same uid.
	b := &binding{uid: uid, s: s}
	if !s.store.uids.add(b, s.store.single) {
		return false, fmt.Errorf("%w: uid %q, sid %d", ErrSingleSession, uid, s.id)
	}
	s.bound = b
	s.changedLocked()
	s.queueLocked(event{kind: eventBound, uid: uid})
	return true, nil
}

// unbind does Unbind's work; its errors are already wrapped with context.
func (s *Session) unbind(uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch cur := s.uidLocked(); {
	case s.closed:
		return fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	case uid == "":
		return fmt.Errorf("%w: empty uid for sid %d", ErrInvalidUID, s.id)
	case cur == "":
		return fmt.Errorf("%w: sid %d is not bound, not to %q", ErrNotBound, s.id, uid)
	case cur != uid:
		return fmt.Errorf("%w: sid %d is bound to %q, not %q", ErrNotBound, s.id, cur, uid)
	}
	s.store.uids.remove(s.bound)
	s.bound = nil
	s.changedLocked()
	s.queueLocked(event{kind: eventUnbound, uid: uid})
	return nil
}

// close runs the close sequence once: forget the session, run the closed hooks, kick the
// connection if asked, close the connection.
func (s *Session) close(reason string, kick bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.store.forget(s)
	if s.bound != nil {
		s.store.uids.remove(s.bound)
	}
	s.view.Store(nil)
	s.queueLocked(event{kind: eventClosed, reason: reason, kicked: kick})
	s.mu.Unlock()

	// Deferred so a panicking hook still leaves no connection open.
	if s.conn != nil {
		defer s.conn.Close()
	}
	s.store.fireClosed(s, reason)
	if kick && s.conn != nil {
		s.conn.Kick(reason)
	}
}
