// Package sessionremote is pomelo's backend-session system, typed: the
// sys.sessionRemote service every frontend server offers, the frontend
// implementation over a [session.Store], and the API a backend uses to read,
// bind, push settings to and kick sessions it does not hold:
// [BackendSessionService] and [BackendSession].
//
// A frontend calling a backend on a client's behalf sends the client's
// session with the call ([WithSession], or [Forward] for a client's message
// by route), and the backend's handler takes it from its context
// ([FromContext]), with no round trip, as every pomelo handler gets its
// session argument; the backend honours it only from callers it trusts as
// frontends ([BackendSessionService.Interceptor]). A snapshot received any
// other way becomes a BackendSession with [BackendSessionService.Create].
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

	// PushIf sets setting key of session sid to value, the setting's JSON
	// text, or deletes the key when value is "", if the session's revision
	// is still ifRevision; 0 sets no condition. It reports whether the write
	// was applied and the session's revision, as UpdateSettings does. The
	// value travels as a JSON string, which the generated code encodes and
	// decodes without reflection, so that a conditional push costs about
	// what a push does; see UpdateSettings for why it is not push's route.
	PushIf(ctx context.Context, sid session.ID, key string, value string, ifRevision uint64) (WriteResult, error)

	// UpdateSettings sets the keys of set to their values and deletes the
	// keys in deleted, in the settings of session sid, all or none, if the
	// session's revision is still ifRevision; 0 sets no condition. It reports
	// whether the write was applied and the session's revision: after the
	// write when it was, the current one when the condition failed, which is
	// not an error. A key both set and deleted is ErrInvalidSetting; the
	// settings budget applies as for PushAll.
	//
	// It and PushIf are not pomelo's routes. Conditional writes, and
	// pushAlls that delete keys, travel through them rather than as extra
	// arguments to push and pushAll, so that a frontend that predates them
	// answers Unimplemented and changes nothing, where it would have ignored
	// the condition or the deletions; and so that push and pushAll keep
	// their error-only answers.
	UpdateSettings(ctx context.Context, sid session.ID, set session.Settings, deleted []string, ifRevision uint64) (WriteResult, error)
}

// Setting is one setting's value as [SessionRemote.Push] carries it: a JSON
// document, or absent. JSON null is a value like any other; only the zero
// Setting deletes the key.
type Setting struct {
	JSON json.RawMessage `json:"json,omitempty"`
}

// Absent reports whether s carries no value.
func (s Setting) Absent() bool { return len(s.JSON) == 0 }

// WriteResult is the answer of [SessionRemote.UpdateSettings]: whether the
// write was applied, and the session's revision, after the write when it was
// applied or the current one when its condition failed.
//
// On the wire it is one JSON number, the revision times two plus one when
// the write was not applied, so that it costs a conditional write no more
// than an integer to encode and decode. Revisions stay far below 2^63.
type WriteResult uint64

// NewWriteResult returns the result of a write at revision rev.
func NewWriteResult(applied bool, rev uint64) WriteResult {
	r := WriteResult(rev << 1)
	if !applied {
		r |= 1
	}
	return r
}

// Applied reports whether the write was applied.
func (r WriteResult) Applied() bool { return r&1 == 0 }

// Revision returns the session's revision: after the write, if it was
// applied, else the revision that made its condition fail.
func (r WriteResult) Revision() uint64 { return uint64(r >> 1) }
