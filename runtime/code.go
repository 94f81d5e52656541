package runtime

import "strconv"

// Code is the status of a finished call: a closed set, the same as gRPC's, so
// that every transport reports failures the same way and callers can branch on
// them with [CodeOf].
type Code uint32

// The status codes. OK means success; every other code comes with an [*Error].
const (
	OK                 Code = 0  // not an error
	Canceled           Code = 1  // the caller cancelled the call
	Unknown            Code = 2  // the handler returned an error that carries no code
	InvalidArgument    Code = 3  // the arguments are wrong whatever the state, e.g. an empty uid
	DeadlineExceeded   Code = 4  // the caller's deadline passed before the call finished
	NotFound           Code = 5  // the thing asked for does not exist, e.g. an unknown session id
	AlreadyExists      Code = 6  // the thing to create exists already
	PermissionDenied   Code = 7  // the caller is known but may not do this
	ResourceExhausted  Code = 8  // a limit was hit: payload size, calls in flight
	FailedPrecondition Code = 9  // the state forbids it, e.g. a session bound to another uid
	Aborted            Code = 10 // a conflict with a concurrent change
	OutOfRange         Code = 11 // past the valid range
	Unimplemented      Code = 12 // no handler for the route
	Internal           Code = 13 // a broken invariant, e.g. a handler panicked
	Unavailable        Code = 14 // the server is unknown, down or unreachable; the call may be retried
	DataLoss           Code = 15 // unrecoverable loss or corruption
	Unauthenticated    Code = 16 // the caller's identity is missing or invalid
)

var codeNames = [...]string{
	OK:                 "ok",
	Canceled:           "canceled",
	Unknown:            "unknown",
	InvalidArgument:    "invalid_argument",
	DeadlineExceeded:   "deadline_exceeded",
	NotFound:           "not_found",
	AlreadyExists:      "already_exists",
	PermissionDenied:   "permission_denied",
	ResourceExhausted:  "resource_exhausted",
	FailedPrecondition: "failed_precondition",
	Aborted:            "aborted",
	OutOfRange:         "out_of_range",
	Unimplemented:      "unimplemented",
	Internal:           "internal",
	Unavailable:        "unavailable",
	DataLoss:           "data_loss",
	Unauthenticated:    "unauthenticated",
}

// String returns the code's name in snake case, e.g. "not_found".
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code_" + strconv.FormatUint(uint64(c), 10)
}

// valid reports whether c is one of the codes above.
func (c Code) valid() bool { return int(c) < len(codeNames) }
