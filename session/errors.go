package session

import "errors"

// Errors returned by [Store] and [Session]. They are sentinels so that callers, and
// sessionremote when it maps them to wire status codes, can match them with [errors.Is];
// the store wraps them with the session id or uid for context.
var (
	// ErrSessionNotFound means no live session has the given id on this frontend. A session
	// that has been closed is not found: the store has forgotten it.
	ErrSessionNotFound = errors.New("session: session not found")

	// ErrInvalidUID means the uid is empty. Pomelo tested uids for truthiness and broke on
	// "" and 0; here the empty string is simply not a uid.
	ErrInvalidUID = errors.New("session: invalid uid")

	// ErrAlreadyBound means the session is already bound to a different uid. Binding it
	// again to the same uid is not an error.
	ErrAlreadyBound = errors.New("session: already bound to another uid")

	// ErrSingleSession means the store runs with [WithSingleSession] and the uid already
	// has a session on this frontend.
	ErrSingleSession = errors.New("session: uid already has a session")

	// ErrNotBound means an unbind named a uid the session is not bound to, either because
	// it is not bound at all or because it is bound to another uid.
	ErrNotBound = errors.New("session: not bound to uid")

	// ErrSessionClosed is returned by the mutating methods of a [*Session] handle after the
	// session has been closed. Store methods, which look sessions up by id, return
	// [ErrSessionNotFound] instead.
	ErrSessionClosed = errors.New("session: session closed")

	// ErrNoConn means a message was sent to a session created without a connection
	// ([Store.Create] with a nil [Conn]), which has no client to deliver it to.
	ErrNoConn = errors.New("session: session has no connection")

	// ErrInvalidValue means a setting value given as raw JSON is not a single valid JSON
	// document, or a value given to [Session.Set] or [EncodeValue] cannot be encoded.
	ErrInvalidValue = errors.New("session: invalid setting value")

	// ErrSettingsBudget means a change would grow a session's settings past the store's
	// budget ([WithSettingsBudget]); the change was not made.
	ErrSettingsBudget = errors.New("session: settings over budget")

	// ErrRevisionConflict means a conditional write ([Store.PushIf], [Store.PushAllIf])
	// named a revision the session no longer has: someone changed it since. Nothing was
	// changed; the caller should read the session again.
	ErrRevisionConflict = errors.New("session: revision conflict")
)
