package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// shardCount splits the session map and the uid index so that connections and RPC
// handlers on many cores rarely meet on one lock.
const shardCount = 64

// Store holds the sessions of one frontend server, indexed by id and by uid: pomelo's
// SessionService. Create one with [NewStore]; it is safe for concurrent use.
type Store struct {
	frontendID  string
	incarnation string
	single      bool
	budget      int // settings budget per session in bytes; ≤ 0 for none

	lastID atomic.Uint64
	live   atomic.Int64
	shards [shardCount]sessionShard
	uids   uidIndex

	hooksMu   sync.Mutex                 // serialises hook and observer registration
	hooks     atomic.Pointer[hookList]   // copy-on-write, so firing takes no lock
	observers atomic.Pointer[[]Observer] // copy-on-write; nil while there are none
	queues    eventQueues                // events not yet told to the observers
}

type sessionShard struct {
	mu sync.RWMutex
	m  map[ID]*Session
}

type hookList struct {
	bind, unbind, closed []func(*Session, string)
}

// NewStore returns an empty store for the frontend server frontendID, which every
// session and [Info] it hands out will carry. Options: [WithSingleSession],
// [WithSettingsBudget], [WithIncarnation].
func NewStore(frontendID string, opts ...Option) *Store {
	o := options{settingsBudget: DefaultSettingsBudget}
	for _, opt := range opts {
		opt(&o)
	}
	st := &Store{frontendID: frontendID, incarnation: o.incarnation, single: o.singleSession, budget: o.settingsBudget}
	if len(o.observers) > 0 {
		st.observers.Store(&o.observers)
	}
	st.uids.init()
	for i := range st.shards {
		st.shards[i].m = make(map[ID]*Session)
	}
	st.hooks.Store(&hookList{})
	return st
}

// FrontendID returns the id of the frontend server the store belongs to.
func (st *Store) FrontendID() string { return st.frontendID }

// Incarnation returns the run of the frontend process the store belongs to
// ([WithIncarnation]); empty when none was given.
func (st *Store) Incarnation() string { return st.incarnation }

// SettingsBudget returns the most bytes the settings of one session may take encoded
// (see [WithSettingsBudget]), or 0 when there is no budget.
func (st *Store) SettingsBudget() int { return max(st.budget, 0) }

// Create adds a session for a new client connection and returns it with a fresh [ID].
// conn is how a kick reaches the client; it may be nil, in which case closing the session
// only forgets it.
func (st *Store) Create(conn Conn) *Session {
	s := &Session{id: ID(st.lastID.Add(1)), store: st, conn: conn, rev: 1}
	// Queued before anyone else can reach the session, so that it comes first.
	s.queueLocked(event{kind: eventCreated})
	sh := st.shard(s.id)
	sh.mu.Lock()
	sh.m[s.id] = s
	st.live.Add(1)
	sh.mu.Unlock()
	s.deliver()
	return s
}

// Get returns the live session with id, or nil.
func (st *Store) Get(id ID) *Session {
	sh := st.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.m[id]
}

// GetByUID returns the live sessions bound to uid in the order they were bound (a
// session unbound and bound again counts from its latest bind), as pomelo's getByUid, or
// nil when there are none. The slice is the caller's.
func (st *Store) GetByUID(uid string) []*Session {
	return st.uids.get(uid)
}

// Len returns the number of live sessions.
func (st *Store) Len() int { return int(st.live.Load()) }

// Range calls f for every live session, in no particular order, until f returns false.
// It holds no lock while f runs, so f may call into the store, even close sessions;
// sessions created during the walk may or may not be visited, and ones closed before
// their turn are skipped.
func (st *Store) Range(f func(*Session) bool) {
	var buf []*Session
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.RLock()
		buf = buf[:0]
		for _, s := range sh.m {
			buf = append(buf, s)
		}
		sh.mu.RUnlock()
		if !visit(buf, f, false) {
			return
		}
	}
}

// RangeBound calls f for every live session bound to a uid, in no particular order, until
// f returns false: pomelo's forEachBindedSession. Like [Store.Range] it holds no lock
// while f runs.
func (st *Store) RangeBound(f func(*Session) bool) {
	var buf []*Session
	for i := range st.uids.shards {
		buf = st.uids.appendShard(buf[:0], i)
		if !visit(buf, f, true) {
			return
		}
	}
}

// visit calls f on the sessions of a snapshot that are still live (and bound, if asked)
// and reports whether to go on. It clears the snapshot so it pins no closed session.
func visit(list []*Session, f func(*Session) bool, bound bool) bool {
	defer clear(list)
	for _, s := range list {
		s.mu.Lock()
		skip := s.closed || (bound && s.bound == nil)
		s.mu.Unlock()
		if !skip && !f(s) {
			return false
		}
	}
	return true
}

// Bind binds session id to uid and runs the [Store.OnBind] hooks. It fails with
// [ErrSessionNotFound] when there is no such session, [ErrInvalidUID] when uid is empty,
// [ErrAlreadyBound] when the session is bound to another uid, and [ErrSingleSession] under
// [WithSingleSession] when uid already has a session. Binding a session again to its own
// uid succeeds and runs no hooks.
func (st *Store) Bind(id ID, uid string) error {
	s := st.Get(id)
	if s == nil {
		return notFound(id)
	}
	bound, err := s.bind(uid)
	if errors.Is(err, ErrSessionClosed) {
		return notFound(id)
	}
	if bound {
		st.fireBind(s, uid)
	}
	return err
}

// Unbind unbinds session id from uid and runs the [Store.OnUnbind] hooks. It fails with
// [ErrSessionNotFound] when there is no such session, [ErrInvalidUID] when uid is empty,
// and [ErrNotBound] when the session is not bound to uid.
func (st *Store) Unbind(id ID, uid string) error {
	s := st.Get(id)
	if s == nil {
		return notFound(id)
	}
	err := s.unbind(uid)
	if errors.Is(err, ErrSessionClosed) {
		return notFound(id)
	}
	if err == nil {
		st.fireUnbind(s, uid)
	}
	return err
}

// Push sets one setting of session id to value, a JSON document, copying it; a nil or
// empty value deletes the key instead (JSON null is a value like any other). It fails with
// [ErrSessionNotFound], with [ErrInvalidValue] when value is not valid JSON, and with
// [ErrSettingsBudget] when the value would grow the session's settings past the store's
// budget; a failed push changes nothing. This is pomelo's sessionRemote push
// (SessionService import).
func (st *Store) Push(id ID, key string, value json.RawMessage) error {
	_, err := st.PushIf(id, key, value, 0)
	return err
}

// PushIf is [Store.Push] made conditional: it changes the session only if ifRevision is
// its revision (see [Session.Revision]), or is 0, which sets no condition. It returns the
// session's revision after the push, or with [ErrRevisionConflict] the revision the
// session has now, when the condition failed and nothing was changed.
func (st *Store) PushIf(id ID, key string, value json.RawMessage, ifRevision uint64) (rev uint64, err error) {
	s := st.Get(id)
	if s == nil {
		return 0, notFound(id)
	}
	defer s.deliver() // after the unlock below
	raw, err := normalValue(value)
	if err != nil {
		return 0, fmt.Errorf("%w: setting %q of sid %d", err, key, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev, err := s.checkWriteLocked(ifRevision); err != nil {
		return rev, err
	}
	if err = s.setLocked(key, raw); err == nil {
		s.queueLocked(event{kind: eventPushed, keys: 1})
	}
	return s.rev, err
}

// PushAll merges settings into session id's settings: keys it names are set (or deleted,
// for a nil value) and keys it does not name are kept, as pomelo's pushAll does. Either
// every key is applied or, when some value is not valid JSON ([ErrInvalidValue]), the
// result would be over the store's budget ([ErrSettingsBudget]) or the session is
// missing ([ErrSessionNotFound]), none is.
func (st *Store) PushAll(id ID, settings Settings) error {
	_, err := st.PushAllIf(id, settings, 0)
	return err
}

// PushAllIf is [Store.PushAll] made conditional, as [Store.PushIf] is [Store.Push]:
// every key, or none if ifRevision is neither 0 nor the session's revision.
func (st *Store) PushAllIf(id ID, settings Settings, ifRevision uint64) (rev uint64, err error) {
	s := st.Get(id)
	if s == nil {
		return 0, notFound(id)
	}
	defer s.deliver() // after the unlock below
	copied := make(Settings, len(settings))
	for k, v := range settings {
		raw, err := normalValue(v)
		if err != nil {
			return 0, fmt.Errorf("%w: setting %q of sid %d", err, k, id)
		}
		copied[k] = raw
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev, err := s.checkWriteLocked(ifRevision); err != nil {
		return rev, err
	}
	if err = s.setAllLocked(copied); err == nil {
		s.queueLocked(event{kind: eventPushed, keys: len(settings)})
	}
	return s.rev, err
}

// Export returns a snapshot of session id sharing no memory with the store, or
// [ErrSessionNotFound]: sessionRemote's getBackendSessionBySid.
func (st *Store) Export(id ID) (Info, error) {
	info, err := st.ExportShared(id)
	info.Settings = info.Settings.Clone()
	return info, err
}

// ExportShared is [Store.Export] without the copy, for callers that only read or encode
// the snapshot, as sys.sessionRemote does: its Settings map and values are shared with
// the store and with every other export of the same version of the session, so they
// must not be modified. The store never modifies them either: a change to the session
// makes a new version. It takes the session's lock only to publish a version after a
// change, never while settings are copied or encoded.
func (st *Store) ExportShared(id ID) (Info, error) {
	s := st.Get(id)
	if s == nil {
		return Info{}, notFound(id)
	}
	v := s.snapshot()
	if v.closed {
		return Info{}, notFound(id)
	}
	return v.info(s), nil
}

// ExportByUID returns snapshots of uid's live sessions in bind order (see
// [Store.GetByUID]), sharing no memory with the store, or nil when there are none:
// sessionRemote's getBackendSessionsByUid.
func (st *Store) ExportByUID(uid string) []Info {
	infos := st.ExportSharedByUID(uid)
	for i := range infos {
		infos[i].Settings = infos[i].Settings.Clone()
	}
	return infos
}

// ExportSharedByUID is [Store.ExportByUID] without the copies; the same rules as for
// [Store.ExportShared] apply to the settings of every snapshot.
func (st *Store) ExportSharedByUID(uid string) []Info {
	var out []Info
	for _, s := range st.GetByUID(uid) {
		// A session unbound or closed since the index was read is not uid's any more.
		if v := s.snapshot(); !v.closed && v.uid == uid {
			out = append(out, v.info(s))
		}
	}
	return out
}

// KickBySID kicks session id as [Session.Kick] does. An unknown or already closed id is
// not an error: the session is gone either way.
func (st *Store) KickBySID(id ID, reason string) {
	if s := st.Get(id); s != nil {
		s.Kick(reason)
	}
}

// KickByUID kicks every session bound to uid as [Session.Kick] does, in bind order (see
// [Store.GetByUID]); an unknown uid is not an error. It works from a snapshot of uid's
// sessions, so closed hooks that kick or bind sessions of the same uid meanwhile cannot
// derail it (pomelo #355). Its cost is linear in the number of sessions kicked.
func (st *Store) KickByUID(uid, reason string) {
	for _, s := range st.GetByUID(uid) {
		s.Kick(reason)
	}
}

// OnBind registers f to run after each successful new binding, with the uid bound. Hooks
// run in registration order, without store locks held; see the package documentation
// for ordering between events.
func (st *Store) OnBind(f func(s *Session, uid string)) {
	st.addHook(func(h *hookList) { h.bind = append(h.bind, f) })
}

// OnUnbind registers f to run after each successful unbind, with the uid unbound. Closing
// a bound session does not unbind it in this sense: only [Store.OnClosed] hooks run, and
// [Session.UID] still reports the uid.
func (st *Store) OnUnbind(f func(s *Session, uid string)) {
	st.addHook(func(h *hookList) { h.unbind = append(h.unbind, f) })
}

// OnClosed registers f to run once when a session closes, by kick or by disconnect, with
// the reason. The session has already left the store, but f can still read its uid and
// settings.
func (st *Store) OnClosed(f func(s *Session, reason string)) {
	st.addHook(func(h *hookList) { h.closed = append(h.closed, f) })
}

func (st *Store) addHook(add func(*hookList)) {
	st.hooksMu.Lock()
	defer st.hooksMu.Unlock()
	old := st.hooks.Load()
	h := &hookList{
		bind:   old.bind[:len(old.bind):len(old.bind)],
		unbind: old.unbind[:len(old.unbind):len(old.unbind)],
		closed: old.closed[:len(old.closed):len(old.closed)],
	}
	add(h) // full slice expressions above make append copy, never touch old
	st.hooks.Store(h)
}

func (st *Store) fireBind(s *Session, uid string) {
	s.deliver()
	for _, f := range st.hooks.Load().bind {
		f(s, uid)
	}
}

func (st *Store) fireUnbind(s *Session, uid string) {
	s.deliver()
	for _, f := range st.hooks.Load().unbind {
		f(s, uid)
	}
}

func (st *Store) fireClosed(s *Session, reason string) {
	s.deliver()
	for _, f := range st.hooks.Load().closed {
		f(s, reason)
	}
}

func (st *Store) shard(id ID) *sessionShard {
	return &st.shards[id%shardCount]
}

// forget removes s from the id map. The caller holds s.mu, which orders it after any
// Bind of s and so with s's uid-index entry.
func (st *Store) forget(s *Session) {
	sh := st.shard(s.id)
	sh.mu.Lock()
	delete(sh.m, s.id)
	st.live.Add(-1)
	sh.mu.Unlock()
}

func notFound(id ID) error {
	return fmt.Errorf("%w: sid %d", ErrSessionNotFound, id)
}
