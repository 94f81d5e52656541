package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// ID identifies a session within one frontend. The store assigns ids from 1 upwards and
// never reuses one while the process lives, so a stale id can only miss, never reach a
// newer session. Across frontends the key is (frontend id, ID).
type ID uint64

// Conn is the connection side of a session, implemented by the connector: it is how the
// store tells a client it was kicked and disconnects it.
type Conn interface {
	// Kick delivers the kick packet carrying reason. It is called at most once per session,
	// and only when the session is closed by a kick ([Session.Kick], [Store.KickBySID],
	// [Store.KickByUID]).
	Kick(reason string)

	// Close disconnects the client. It is called exactly once per session when it closes,
	// after Kick when the close was a kick.
	Close()
}

// Info is a snapshot of a session: what a backend sees, pomelo's BackendSession export.
// It never aliases the store: its Settings are a deep copy.
type Info struct {
	ID         ID       `json:"id"`
	FrontendID string   `json:"frontendId"`
	UID        string   `json:"uid,omitempty"`
	Settings   Settings `json:"settings,omitempty"`
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

	// mu guards the fields below. Bind, Unbind and close also hold it while they change
	// this session's entry in the store's indexes, which is what keeps a closed session
	// out of the uid index however those calls race.
	mu       sync.Mutex
	closed   bool
	uid      string
	settings Settings // nil until the first setting; values are never mutated in place
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
	return s.uid
}

// Closed reports whether the session has been closed by a kick or a disconnect.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Set encodes value as JSON now and stores it under key, replacing any earlier value; a
// later change to value does not reach the session. It fails with [ErrInvalidValue] when
// value cannot be encoded, and with [ErrSessionClosed] after close.
func (s *Session) Set(key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("%w: setting %q: %w", ErrInvalidValue, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	}
	s.setLocked(key, raw)
	return nil
}

// Get decodes the setting stored under key into into, losslessly (see [DecodeValue]). It
// reports false, leaving into untouched, when there is no such setting.
func (s *Session) Get(key string, into any) (bool, error) {
	s.mu.Lock()
	raw, ok := s.settings[key]
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
	raw, ok := s.settings[key]
	s.mu.Unlock()
	return bytes.Clone(raw), ok
}

// Remove deletes the setting stored under key, if any. (Pomelo's remove deleted a field
// of the session object instead of the setting.)
func (s *Session) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.setLocked(key, nil)
	}
}

// Export returns a snapshot of the session that shares no memory with it.
func (s *Session) Export() Info {
	info, _ := s.export()
	return info
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

// setLocked stores raw under key, or deletes key when raw is nil. The caller holds s.mu.
func (s *Session) setLocked(key string, raw json.RawMessage) {
	if raw == nil {
		delete(s.settings, key)
		if len(s.settings) == 0 {
			s.settings = nil // give the map back: most sessions have no settings
		}
		return
	}
	if s.settings == nil {
		s.settings = make(Settings)
	}
	s.settings[key] = raw
}

// export snapshots the session and reports whether it had already closed.
func (s *Session) export() (Info, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{
		ID:         s.id,
		FrontendID: s.store.frontendID,
		UID:        s.uid,
		Settings:   s.settings.Clone(),
	}, s.closed
}

// bind does Bind's work and reports whether it made a new binding, which is when the bind
// hooks are due. Its errors are already wrapped with context.
func (s *Session) bind(uid string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return false, fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	case uid == "":
		return false, fmt.Errorf("%w: empty uid for sid %d", ErrInvalidUID, s.id)
	case s.uid == uid:
		return false, nil
	case s.uid != "":
		return false, fmt.Errorf("%w: sid %d is bound to %q, not %q", ErrAlreadyBound, s.id, s.uid, uid)
	}
	// Checking and inserting under the uid's shard lock makes the single-session rule hold
	// against concurrent binds of other sessions to the same uid.
	if !s.store.uids.add(uid, s, s.store.single) {
		return false, fmt.Errorf("%w: uid %q, sid %d", ErrSingleSession, uid, s.id)
	}
	s.uid = uid
	return true, nil
}

// unbind does Unbind's work; its errors are already wrapped with context.
func (s *Session) unbind(uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("%w: sid %d", ErrSessionClosed, s.id)
	case uid == "":
		return fmt.Errorf("%w: empty uid for sid %d", ErrInvalidUID, s.id)
	case s.uid == "":
		return fmt.Errorf("%w: sid %d is not bound, not to %q", ErrNotBound, s.id, uid)
	case s.uid != uid:
		return fmt.Errorf("%w: sid %d is bound to %q, not %q", ErrNotBound, s.id, s.uid, uid)
	}
	s.store.uids.remove(uid, s)
	s.uid = ""
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
	if s.uid != "" {
		s.store.uids.remove(s.uid, s)
	}
	s.mu.Unlock()

	// Deferred so a panicking hook still leaves no connection open.
	if s.conn != nil {
		defer s.conn.Close()
	}
	s.store.fireClosed(s, reason, kick)
	if kick && s.conn != nil {
		s.conn.Kick(reason)
	}
}
