// Package sessionremote is pomelo's backend-session system, typed: the
// sys.sessionRemote service every frontend server offers, the frontend
// implementation over a [session.Store], and the API a backend uses to read,
// bind, push settings to and kick sessions it does not hold:
// [BackendSessionService] and [BackendSession].
package sessionremote

import (
	"context"
	"encoding/json"

	"github.com/sessionrpc/sessionrpc/session"
)

// SessionRemote is the system service every frontend server offers so that
// backends can reach the sessions it holds. Routes and semantics are pomelo's
// sys.sessionRemote; SESSIONS.md at the repository root gives them operation
// by operation, with every deviation from pomelo and why. Errors match the
// sentinels of this package with errors.Is on either side of the wire.
//
//rpcgen:service sys.sessionRemote
//rpcgen:proxy SessionProxy sid
type SessionRemote interface {
	// Bind binds session sid to user uid. Binding to the uid it already has
	// succeeds and changes nothing.
	Bind(ctx context.Context, sid session.ID, uid string) error

	// Unbind removes the binding of session sid to uid.
	Unbind(ctx context.Context, sid session.ID, uid string) error

	// Push sets setting key of session sid to value, or deletes the key when
	// value is absent. A value that would grow the session's settings past
	// the frontend's budget fails with ErrSettingsBudget and changes nothing.
	Push(ctx context.Context, sid session.ID, key string, value Setting) error

	// PushAll merges settings into the settings of session sid: keys not in
	// settings are kept. All keys are applied or none: over the frontend's
	// settings budget it fails with ErrSettingsBudget.
	PushAll(ctx context.Context, sid session.ID, settings session.Settings) error

	// GetBackendSessionBySid returns a snapshot of session sid. A snapshot
	// larger than the frontend's payload limit fails with ErrAnswerTooLarge.
	GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error)

	// GetBackendSessionsByUid returns snapshots of every session bound to uid,
	// in bind order; none is an empty list, not an error. When the list would
	// exceed the frontend's payload limit the call fails with
	// ErrAnswerTooLarge naming uid: the list is never cut short.
	GetBackendSessionsByUid(ctx context.Context, uid string) ([]session.Info, error)

	// KickBySid closes session sid, telling its client reason ("kick" when
	// empty). Kicking an unknown or closed session succeeds.
	KickBySid(ctx context.Context, sid session.ID, reason string) error

	// KickByUid closes every session bound to uid, in bind order, as
	// KickBySid.
	KickByUid(ctx context.Context, uid string, reason string) error
}

// Setting is one setting's value as [SessionRemote.Push] carries it: a JSON
// document, or absent. JSON null is a value like any other; only the zero
// Setting deletes the key.
type Setting struct {
	JSON json.RawMessage `json:"json,omitempty"`
}

// Absent reports whether s carries no value.
func (s Setting) Absent() bool { return len(s.JSON) == 0 }
