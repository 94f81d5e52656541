package sessionremote

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// Errors of sys.sessionRemote. Each has a status code and survives the wire:
// on a backend, errors.Is(err, ErrSessionNotFound) holds for a session the
// frontend did not find. On the frontend the same errors also match the
// [session] package's.
var (
	// ErrSessionNotFound: no session with that id on that frontend.
	ErrSessionNotFound = runtime.NewError(runtime.NotFound, "session not found")
	// ErrInvalidUID: an empty uid.
	ErrInvalidUID = runtime.NewError(runtime.InvalidArgument, "invalid uid")
	// ErrAlreadyBound: bind of a session bound to another uid.
	ErrAlreadyBound = runtime.NewError(runtime.FailedPrecondition, "session already bound to another uid")
	// ErrSingleSession: bind of a uid that already has a session on a
	// frontend that allows one.
	ErrSingleSession = runtime.NewError(runtime.FailedPrecondition, "uid already has a session")
	// ErrNotBound: unbind of a session not bound to that uid.
	ErrNotBound = runtime.NewError(runtime.FailedPrecondition, "session not bound to that uid")
	// ErrInvalidSetting: a setting value that is not valid JSON, or a value
	// that cannot be encoded as JSON (NaN, a channel).
	ErrInvalidSetting = runtime.NewError(runtime.InvalidArgument, "invalid setting value")
	// ErrSettingsBudget: a push or pushAll that would grow the session's
	// settings past the frontend store's budget
	// ([session.WithSettingsBudget]); nothing was changed.
	ErrSettingsBudget = runtime.NewError(runtime.ResourceExhausted, "settings over the session's budget")
	// ErrAnswerTooLarge: a session, or the sessions of a uid, would take more
	// than the frontend's payload limit to send ([WithMaxPayload]). The error
	// names the sid or uid; a uid's list is refused whole, never cut short.
	ErrAnswerTooLarge = runtime.NewError(runtime.ResourceExhausted, "answer exceeds the payload limit")
	// ErrRevisionConflict: a conditional write was not applied because the
	// session had changed since the revision it expected. The error is a
	// [*ConflictError], which carries the session's current revision. Read
	// the session again and redo the change, as
	// [BackendSessionService.Update] does.
	ErrRevisionConflict = runtime.NewError(runtime.Aborted, "session revision conflict")
	// ErrNoRevision: a conditional write from a snapshot that carries no
	// revision, which a frontend that predates revisions sends. Nothing was
	// sent: without a revision the write could only be unconditional.
	ErrNoRevision = runtime.NewError(runtime.FailedPrecondition, "session snapshot has no revision")
)

// A ConflictError is the error of a conditional write that was not applied
// because the session had changed. It matches [ErrRevisionConflict], code
// Aborted; errors.As gives the revisions:
//
//	var conflict *sessionremote.ConflictError
//	if errors.As(err, &conflict) { ... conflict.Revision ... }
type ConflictError struct {
	SID      session.ID // the session
	Expected uint64     // the revision the write expected
	Revision uint64     // the revision the session had instead
}

// Error says which session conflicted and its revisions, after
// [ErrRevisionConflict]'s own message.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: sid %d is at revision %d, not %d", ErrRevisionConflict, e.SID, e.Revision, e.Expected)
}

// Unwrap returns [ErrRevisionConflict], which gives the error its code.
func (e *ConflictError) Unwrap() error { return ErrRevisionConflict }

// storeErrors pairs the store's errors with the coded ones.
var storeErrors = []struct {
	store error
	wire  *runtime.Error
}{
	{session.ErrSessionNotFound, ErrSessionNotFound},
	{session.ErrInvalidUID, ErrInvalidUID},
	{session.ErrAlreadyBound, ErrAlreadyBound},
	{session.ErrSingleSession, ErrSingleSession},
	{session.ErrNotBound, ErrNotBound},
	{session.ErrInvalidValue, ErrInvalidSetting},
	{session.ErrSettingsBudget, ErrSettingsBudget},
}

// coded gives a store error its status code, keeping its message and its
// identity: the result matches both the store's sentinel and ours.
func coded(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range storeErrors {
		if errors.Is(err, e.store) {
			return &codedError{wire: e.wire, store: e.store, err: err}
		}
	}
	return err
}

type codedError struct {
	wire  *runtime.Error
	store error
	err   error
}

// Error is our sentinel's message followed by the store's detail, e.g.
// "session not found: sid 7".
func (e *codedError) Error() string {
	detail, ok := strings.CutPrefix(e.err.Error(), e.store.Error())
	if !ok {
		return e.err.Error()
	}
	return e.wire.Message() + detail
}

func (e *codedError) Unwrap() []error { return []error{e.wire, e.err} }
