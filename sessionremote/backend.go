package sessionremote

import (
	"context"
	"encoding/json"
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

func (s *BackendSessionService) session(frontendID string, info session.Info) *BackendSession {
	// The frontend's word on where the session lives is the address we used.
	info.FrontendID = frontendID
	return &BackendSession{
		proxy:    NewSessionProxy(s.c, frontendID, info.ID),
		id:       info.ID,
		frontend: frontendID,
		uid:      info.UID,
		settings: info.Settings,
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

// KickByUID closes every session of uid on frontendID with reason.
func (s *BackendSessionService) KickByUID(ctx context.Context, frontendID, uid, reason string) error {
	return s.c.KickByUid(ctx, frontendID, uid, reason)
}

func encodeSetting(key string, value any) (json.RawMessage, error) {
	raw, err := session.EncodeValue(value)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidSetting, key, err)
	}
	return raw, nil
}

// BackendSession is a backend's snapshot of one session held by a frontend:
// pomelo's BackendSession. Reads and Set are local; Bind, Unbind, Push and
// PushAll change the real session through sys.sessionRemote.
//
// Two backends pushing the same session race, last write wins per key, and
// PushAll from an old snapshot puts back the values of that snapshot for
// every key it holds. Push only the keys you changed, as pomelo advises.
//
// A BackendSession is safe for concurrent use.
type BackendSession struct {
	proxy    SessionProxy
	id       session.ID
	frontend string

	mu       sync.Mutex
	uid      string
	settings session.Settings
}

// ID returns the session id, unique within its frontend.
func (s *BackendSession) ID() session.ID { return s.id }

// FrontendID returns the id of the frontend server holding the session.
func (s *BackendSession) FrontendID() string { return s.frontend }

// UID returns the uid the session was bound to when the snapshot was taken,
// as changed by this snapshot's Bind and Unbind since.
func (s *BackendSession) UID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uid
}

// Bind binds the session to uid on its frontend; on success [BackendSession.UID]
// returns uid.
func (s *BackendSession) Bind(ctx context.Context, uid string) error {
	if err := s.proxy.Bind(ctx, uid); err != nil {
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
	if err := s.proxy.Unbind(ctx, uid); err != nil {
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
	return nil
}

// Remove deletes a setting locally; [BackendSession.Push] of key then
// deletes it on the frontend too.
func (s *BackendSession) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.settings, key)
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
// there when it has no local value.
func (s *BackendSession) Push(ctx context.Context, key string) error {
	s.mu.Lock()
	raw := s.settings[key]
	s.mu.Unlock()
	return s.proxy.Push(ctx, key, Setting{JSON: raw})
}

// PushAll merges every local setting into the frontend's session; keys that
// exist only on the frontend are kept, and keys removed locally are not
// deleted there: Push each of those.
func (s *BackendSession) PushAll(ctx context.Context) error {
	s.mu.Lock()
	all := s.settings.Clone()
	s.mu.Unlock()
	if all == nil {
		all = session.Settings{}
	}
	return s.proxy.PushAll(ctx, all)
}

// Export returns {ID, FrontendID, UID, Settings}, a deep copy: changing it
// changes nothing here.
func (s *BackendSession) Export() session.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return session.Info{ID: s.id, FrontendID: s.frontend, UID: s.uid, Settings: s.settings.Clone()}
}

// Keys returns the names of the local settings, sorted.
func (s *BackendSession) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.settings))
}
