package sessionremote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// BackendSessionService is how a backend server reaches the sessions held by
// frontend servers, through sys.sessionRemote on any transport: pomelo's
// BackendSessionService. Every method names the frontend server that holds
// the session, because a session id is unique only within its frontend.
type BackendSessionService struct {
	c *SessionRemoteClient
}

// NewBackendSessionService returns the service calling frontends through inv,
// typically a [runtime.Client] over the cluster's transport.
func NewBackendSessionService(inv runtime.Invoker) *BackendSessionService {
	return &BackendSessionService{c: NewSessionRemoteClient(inv)}
}

// Get returns a snapshot of session sid on frontend frontendID, or an error
// matching [ErrSessionNotFound].
func (s *BackendSessionService) Get(ctx context.Context, frontendID string, sid session.ID) (*BackendSession, error) {
	info, err := s.c.GetBackendSessionBySid(ctx, frontendID, sid)
	if err != nil {
		return nil, err
	}
	if info == nil {
		return nil, fmt.Errorf("%w: sid %d (frontend sent no session)", ErrSessionNotFound, sid)
	}
	return s.session(frontendID, *info), nil
}

// GetByUID returns snapshots of the sessions bound to uid on frontend
// frontendID; an empty list when there are none.
func (s *BackendSessionService) GetByUID(ctx context.Context, frontendID, uid string) ([]*BackendSession, error) {
	infos, err := s.c.GetBackendSessionsByUid(ctx, frontendID, uid)
	if err != nil {
		return nil, err
	}
	out := make([]*BackendSession, len(infos))
	for i, info := range infos {
		out[i] = s.session(frontendID, info)
	}
	return out, nil
}

// GetRef returns a snapshot of the session ref names, as Get does, but only
// from the run of the frontend the reference came from: after the frontend
// restarted, it fails with [ErrSessionNotFound] even if a new session has
// the same id.
func (s *BackendSessionService) GetRef(ctx context.Context, ref session.Ref) (*BackendSession, error) {
	return s.Get(withIncarnation(ctx, ref.Incarnation), ref.FrontendID, ref.ID)
}

// withIncarnation returns ctx whose calls name incarnation (when not empty)
// as the run of the frontend they mean.
func withIncarnation(ctx context.Context, incarnation string) context.Context {
	if incarnation == "" {
		return ctx
	}
	return runtime.WithMetadata(ctx, runtime.Metadata{MetadataIncarnation: incarnation})
}

func (s *BackendSessionService) session(frontendID string, info session.Info) *BackendSession {
	// The frontend's word on where the session lives is the address we used.
	info.FrontendID = frontendID
	return &BackendSession{
		proxy:       NewSessionProxy(s.c, frontendID, info.ID),
		id:          info.ID,
		frontend:    frontendID,
		incarnation: info.Incarnation,
		uid:         info.UID,
		rev:         info.Revision,
		settings:    info.Settings,
	}
}

// Bind binds session sid on frontendID to uid.
func (s *BackendSessionService) Bind(ctx context.Context, frontendID string, sid session.ID, uid string) error {
	return s.c.Bind(ctx, frontendID, sid, uid)
}

// Unbind removes the binding of session sid on frontendID to uid.
func (s *BackendSessionService) Unbind(ctx context.Context, frontendID string, sid session.ID, uid string) error {
	return s.c.Unbind(ctx, frontendID, sid, uid)
}

// Push sets one setting of session sid on frontendID to value, encoded as
// JSON; a nil value is stored as JSON null, see [BackendSessionService.Delete].
func (s *BackendSessionService) Push(ctx context.Context, frontendID string, sid session.ID, key string, value any) error {
	raw, err := encodeSetting(key, value)
	if err != nil {
		return err
	}
	return s.c.Push(ctx, frontendID, sid, key, Setting{JSON: raw})
}

// Delete deletes setting key of session sid on frontendID. Deleting a key
// the session does not have succeeds.
func (s *BackendSessionService) Delete(ctx context.Context, frontendID string, sid session.ID, key string) error {
	return s.c.Push(ctx, frontendID, sid, key, Setting{})
}

// PushAll merges settings into those of session sid on frontendID; each
// value is encoded as JSON. It never deletes: a nil value is stored as JSON
// null. Delete keys with [BackendSessionService.Delete].
func (s *BackendSessionService) PushAll(ctx context.Context, frontendID string, sid session.ID, settings map[string]any) error {
	enc := make(session.Settings, len(settings))
	for k, v := range settings {
		raw, err := encodeSetting(k, v)
		if err != nil {
			return err
		}
		enc[k] = raw
	}
	return s.c.PushAll(ctx, frontendID, sid, enc)
}

// KickBySID closes session sid on frontendID with reason ("kick" when
// empty). An unknown session is not an error.
func (s *BackendSessionService) KickBySID(ctx context.Context, frontendID string, sid session.ID, reason string) error {
	return s.c.KickBySid(ctx, frontendID, sid, reason)
}

// KickByUID closes every session of uid on frontendID with reason, in the
// order they were bound.
func (s *BackendSessionService) KickByUID(ctx context.Context, frontendID, uid, reason string) error {
	return s.c.KickByUid(ctx, frontendID, uid, reason)
}

// UpdateAttempts is how many times [BackendSessionService.Update] reads a
// session and runs its function before it gives up on a session that keeps
// changing under it.
const UpdateAttempts = 8

// Update changes session sid on frontendID without losing anyone else's
// change: it reads the session, lets f change the snapshot (Set, Remove), and
// pushes what f changed only if the session is still at the revision it read
// ([BackendSession.PushAllIfUnchanged]). When it is not, someone changed the
// session in between: Update reads it again and runs f again, up to
// [UpdateAttempts] times, and then returns the last conflict, an error
// matching [ErrRevisionConflict].
//
// Any other error ends Update at once: f's own, ErrSessionNotFound, and
// above all DeadlineExceeded, Canceled or Unavailable, after which the push
// may or may not have been applied, so that running f again could apply it
// twice. f may run several times and must only change the snapshot it is
// given; it must not call the frontend.
func (s *BackendSessionService) Update(ctx context.Context, frontendID string, sid session.ID, f func(*BackendSession) error) error {
	var err error
	for range UpdateAttempts {
		var bs *BackendSession
		if bs, err = s.Get(ctx, frontendID, sid); err != nil {
			return err
		}
		if err = f(bs); err != nil {
			return err
		}
		if err = bs.PushAllIfUnchanged(ctx); !errors.Is(err, ErrRevisionConflict) {
			return err
		}
	}
	return err
}

func encodeSetting(key string, value any) (json.RawMessage, error) {
	raw, err := session.EncodeValue(value)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidSetting, key, err)
	}
	return raw, nil
}

// BackendSession is a backend's snapshot of one session held by a frontend:
// pomelo's BackendSession. Reads, Set and Remove are local; Bind, Unbind,
// Push and PushAll change the real session through sys.sessionRemote.
//
// A snapshot remembers which keys it changed since it was read or last
// pushed them: PushAll sends only those (sets and deletions), so it never
// puts back a key some other backend has changed since. Two backends writing
// the same key still race, and the last write wins, as in pomelo; the
// conditional writes, PushIfUnchanged and PushAllIfUnchanged, instead refuse
// to apply when anyone changed the session after the snapshot's revision
// ([BackendSessionService.Update] retries them).
//
// A BackendSession is safe for concurrent use.
type BackendSession struct {
	proxy       SessionProxy
	id          session.ID
	frontend    string
	incarnation string // the frontend's run the snapshot came from; "" when it names none

	mu       sync.Mutex
	uid      string
	rev      uint64
	settings session.Settings
	// dirty holds the keys Set or Removed and not pushed since, each with
	// the number of its latest change, so that a push clears a key only if
	// it was not changed again while the push was on its way.
	dirty   map[string]uint64
	changes uint64
}

// ID returns the session id, unique within its frontend.
func (s *BackendSession) ID() session.ID { return s.id }

// FrontendID returns the id of the frontend server holding the session.
func (s *BackendSession) FrontendID() string { return s.frontend }

// Incarnation returns the run of the frontend the snapshot came from; empty
// when the frontend names none. Every call of the snapshot's methods names
// it, so that after the frontend restarts they fail with
// [ErrSessionNotFound] rather than reach a new session with the same id.
func (s *BackendSession) Incarnation() string { return s.incarnation }

// Ref returns the reference to keep to reach the session later
// ([BackendSessionService.GetRef]).
func (s *BackendSession) Ref() session.Ref {
	return session.Ref{FrontendID: s.frontend, Incarnation: s.incarnation, ID: s.id}
}

// scoped returns ctx for a call on this session: naming the frontend's run
// the snapshot came from.
func (s *BackendSession) scoped(ctx context.Context) context.Context {
	return withIncarnation(ctx, s.incarnation)
}

// UID returns the uid the session was bound to when the snapshot was taken,
// as changed by this snapshot's Bind and Unbind since.
func (s *BackendSession) UID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uid
}

// Revision returns the session's revision when the snapshot was taken, or
// after this snapshot's latest conditional write. The session's other
// changes since, this snapshot's Bind, Unbind, Push and PushAll included,
// are not counted: a conditional write after them conflicts. 0 means the
// frontend did not say (it predates revisions).
func (s *BackendSession) Revision() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// Bind binds the session to uid on its frontend; on success [BackendSession.UID]
// returns uid.
func (s *BackendSession) Bind(ctx context.Context, uid string) error {
	if err := s.proxy.Bind(s.scoped(ctx), uid); err != nil {
		return err
	}
	s.mu.Lock()
	s.uid = uid
	s.mu.Unlock()
	return nil
}

// Unbind removes the session's binding to uid on its frontend; on success
// [BackendSession.UID] returns "".
func (s *BackendSession) Unbind(ctx context.Context, uid string) error {
	if err := s.proxy.Unbind(s.scoped(ctx), uid); err != nil {
		return err
	}
	s.mu.Lock()
	s.uid = ""
	s.mu.Unlock()
	return nil
}

// Set sets a setting locally, encoded as JSON; nothing changes on the
// frontend until [BackendSession.Push] or [BackendSession.PushAll].
func (s *BackendSession) Set(key string, value any) error {
	raw, err := encodeSetting(key, value)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settings == nil {
		s.settings = make(session.Settings)
	}
	s.settings[key] = raw
	s.changedLocked(key)
	return nil
}

// Remove deletes a setting locally; [BackendSession.Push] of key, or
// [BackendSession.PushAll], then deletes it on the frontend too.
func (s *BackendSession) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.settings, key)
	s.changedLocked(key)
}

// changedLocked marks key as changed since the snapshot was read or pushed.
func (s *BackendSession) changedLocked(key string) {
	if s.dirty == nil {
		s.dirty = make(map[string]uint64)
	}
	s.changes++
	s.dirty[key] = s.changes
}

// Get decodes setting key into into, a pointer, and reports whether the
// setting exists. Decoding into a typed pointer is lossless; into *any,
// numbers come back as json.Number.
func (s *BackendSession) Get(key string, into any) (bool, error) {
	s.mu.Lock()
	raw, ok := s.settings[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := session.DecodeValue(raw, into); err != nil {
		return true, fmt.Errorf("setting %q: %w", key, err)
	}
	return true, nil
}

// Push sends the local value of key to the frontend, or deletes the key
// there when it has no local value. The last write of a key wins, as in
// pomelo; see [BackendSession.PushIfUnchanged] for the write that does not
// overwrite changes it has not seen.
func (s *BackendSession) Push(ctx context.Context, key string) error {
	// One key needs none of changed's maps, and Push is the common write.
	s.mu.Lock()
	raw := s.settings[key]
	n, changed := s.dirty[key]
	s.mu.Unlock()
	if err := s.proxy.Push(s.scoped(ctx), key, Setting{JSON: raw}); err != nil {
		return err
	}
	if changed {
		s.mu.Lock()
		if s.dirty[key] == n {
			delete(s.dirty, key)
		}
		s.mu.Unlock()
	}
	return nil
}

// PushAll sends the frontend every key changed locally since the snapshot
// was read or last pushed, set or deleted, and merges them into its
// settings: keys the snapshot did not change are left as the frontend has
// them. On success those keys count as pushed; on failure they stay changed,
// for the next PushAll. The last write of a key wins, as in pomelo; see
// [BackendSession.PushAllIfUnchanged].
//
// Without deletions it is pomelo's pushAll; with some, it goes through
// UpdateSettings, which only frontends that know revisions serve.
func (s *BackendSession) PushAll(ctx context.Context) error {
	c := s.changed()
	var err error
	if len(c.deleted) == 0 {
		err = s.proxy.PushAll(s.scoped(ctx), c.setOrEmpty())
	} else {
		_, err = s.proxy.UpdateSettings(s.scoped(ctx), c.set, c.deleted, 0)
	}
	if err != nil {
		return err
	}
	s.pushed(c, 0, 0)
	return nil
}

// PushIfUnchanged is [BackendSession.Push] made conditional: it sets (or
// deletes) key on the frontend only if the session is still at this
// snapshot's revision. If anyone changed the session since, it changes
// nothing and returns a [*ConflictError] (ErrRevisionConflict, Aborted) with
// the session's current revision. On success the snapshot's revision
// becomes the session's new one, so that writes can follow one another.
func (s *BackendSession) PushIfUnchanged(ctx context.Context, key string) error {
	s.mu.Lock()
	rev := s.rev
	raw := s.settings[key]
	n, changed := s.dirty[key]
	s.mu.Unlock()
	if rev == 0 {
		return s.errNoRevision()
	}
	res, err := s.proxy.PushIf(s.scoped(ctx), key, string(raw), rev)
	if err != nil {
		return err
	}
	if !res.Applied() {
		return &ConflictError{SID: s.id, Expected: rev, Revision: res.Revision()}
	}
	s.mu.Lock()
	if changed && s.dirty[key] == n {
		delete(s.dirty, key)
	}
	if s.rev == rev {
		s.rev = res.Revision()
	}
	s.mu.Unlock()
	return nil
}

// PushAllIfUnchanged is [BackendSession.PushAll] made conditional, as
// PushIfUnchanged is Push: every changed key or, when the session has
// changed since this snapshot's revision, none.
func (s *BackendSession) PushAllIfUnchanged(ctx context.Context) error {
	return s.updateIf(ctx, s.changed())
}

func (s *BackendSession) errNoRevision() error {
	return fmt.Errorf("%w: sid %d on %s", ErrNoRevision, s.id, s.frontend)
}

func (s *BackendSession) updateIf(ctx context.Context, c changes) error {
	if c.rev == 0 {
		return s.errNoRevision()
	}
	res, err := s.proxy.UpdateSettings(s.scoped(ctx), c.set, c.deleted, c.rev)
	if err != nil {
		return err
	}
	if !res.Applied() {
		return &ConflictError{SID: s.id, Expected: c.rev, Revision: res.Revision()}
	}
	s.pushed(c, c.rev, res.Revision())
	return nil
}

// changes is what a PushAll sends: the values of changed keys that are set,
// the changed keys that are not, and their change numbers, as of the
// snapshot's revision rev.
type changes struct {
	set     session.Settings
	deleted []string
	numbers map[string]uint64
	rev     uint64
}

// changed returns every key changed since the snapshot was read or pushed,
// as PushAll and PushAllIfUnchanged send them.
func (s *BackendSession) changed() changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := changes{rev: s.rev, numbers: maps.Clone(s.dirty)}
	for _, k := range slices.Sorted(maps.Keys(s.dirty)) {
		if raw, ok := s.settings[k]; ok {
			if c.set == nil {
				c.set = make(session.Settings)
			}
			c.set[k] = raw // values are replaced, never modified: no copy
		} else {
			c.deleted = append(c.deleted, k)
		}
	}
	return c
}

func (c changes) setOrEmpty() session.Settings {
	if c.set == nil {
		return session.Settings{}
	}
	return c.set
}

// pushed records that c reached the frontend: its keys are no longer
// changed, unless they changed again meanwhile, and a conditional write from
// revision from took the session to revision to.
func (s *BackendSession) pushed(c changes, from, to uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range c.numbers {
		if s.dirty[k] == n {
			delete(s.dirty, k)
		}
	}
	if from != 0 && s.rev == from {
		s.rev = to
	}
}

// Export returns {ID, FrontendID, Incarnation, UID, Revision, Settings}, a deep copy:
// changing it changes nothing here.
func (s *BackendSession) Export() session.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return session.Info{ID: s.id, FrontendID: s.frontend, Incarnation: s.incarnation, UID: s.uid, Revision: s.rev,
		Settings: s.settings.Clone()}
}

// Keys returns the names of the local settings, sorted.
func (s *BackendSession) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.settings))
}
