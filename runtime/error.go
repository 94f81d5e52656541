package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Error is an error with a status [Code]. It is what every call returns on
// failure, on every transport, and what a handler returns to choose the code
// its caller sees.
//
// An Error has an identity (its code and its key) and a message. Define
// sentinels with [NewError] and wrap them with fmt.Errorf("%w: ...") to add
// detail: after crossing the wire, errors.Is(err, sentinel) still holds,
// because the identity travels with the call.
//
// The message travels to the caller: never put secrets in it.
type Error struct {
	code Code
	key  string // identity for errors.Is; the sentinel's message
	msg  string // full message, detail included
}

// NewError returns an error with code c and message msg. Use it for sentinel
// errors that callers match with errors.Is on the other side of the wire.
func NewError(c Code, msg string) *Error {
	return &Error{code: c, key: msg, msg: msg}
}

// Errorf returns an error with code c and a formatted message. Its identity is
// the formatted message, so prefer wrapping a [NewError] sentinel when callers
// need to match it.
func Errorf(c Code, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{code: c, key: msg, msg: msg}
}

// Code returns the error's status code.
func (e *Error) Code() Code { return e.code }

// Message returns the error's message without the code.
func (e *Error) Message() string { return e.msg }

// Error returns "rpc error: code = <code>: <message>".
func (e *Error) Error() string {
	return "rpc error: " + e.code.String() + ": " + e.msg
}

// Is reports whether target is an *Error with the same code and identity, so
// that a sentinel matches the error that crossed the wire for it. A
// DeadlineExceeded or Canceled error also matches the context error of the
// same meaning.
func (e *Error) Is(target error) bool {
	switch target {
	case context.DeadlineExceeded:
		return e.code == DeadlineExceeded
	case context.Canceled:
		return e.code == Canceled
	}
	t, ok := target.(*Error)
	return ok && t.code == e.code && t.key == e.key
}

// CodeOf returns the status code of err: OK for nil, the code of the first
// [*Error] in its chain, Canceled or DeadlineExceeded for context errors, and
// Unknown otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Unknown
}

// statusOf turns any error into the code, key and message sent on the wire.
func statusOf(err error) (c Code, key, msg string) {
	if nilPointerError(err) {
		return errNilError.code, errNilError.key, errNilError.msg
	}
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			// A typed nil in the chain: it would crash whoever reads it.
			return errNilError.code, errNilError.key, errNilError.msg
		}
		return e.code, e.key, messageOf(err, e)
	}
	c = CodeOf(err)
	return c, "", err.Error()
}

// messageOf returns the message of err without the "rpc error: code:" prefix
// that e.Error() adds where err wraps e.
func messageOf(err error, e *Error) string {
	if err == error(e) {
		return e.msg
	}
	// fmt.Errorf("%w: detail", e) renders e.Error() inside; put the bare
	// message back in its place.
	return strings.Replace(err.Error(), e.Error(), e.msg, 1)
}

// errorFromStatus rebuilds the error a server sent.
func errorFromStatus(c Code, key, msg string) *Error {
	if !c.valid() || c == OK {
		c = Unknown
	}
	if key == "" {
		key = msg
	}
	return &Error{code: c, key: key, msg: msg}
}
