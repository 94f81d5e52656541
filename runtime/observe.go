package runtime

import "context"

// Observer sees every call a server answers once its envelope has parsed:
// calls refused before they run (unknown route, admission, budgets, a
// server shutting down, undecodable arguments) as well as calls that ran,
// each with its final code. Logging and metrics built on it count
// everything; interceptors only see calls that reach the handler. Install
// one with [WithObserver].
//
// StartCall runs first, on the goroutine that will run the call. Its context
// carries the caller's [Metadata] ([MetadataFromContext]), so that a tracer
// can continue the caller's trace; the context it returns is the call's from
// then on, which admissions, interceptors and the handler see (a tracer puts
// its span there).
// EndCall runs once the answer is known, before it is sent. Both must be
// safe for concurrent use and should be quick: they are on every call's
// path.
type Observer interface {
	StartCall(ctx context.Context, info CallInfo) context.Context
	EndCall(ctx context.Context, info CallInfo, end CallEnd)
}

// CallEnd is how a call ended, as an [Observer] sees it.
type CallEnd struct {
	// Code is the call's final status; OK on success.
	Code Code
	// Err is the error sent to the caller; nil on success.
	Err error
	// Args are the decoded arguments; nil when the call was refused before
	// they were decoded.
	Args any
	// Ran reports whether the handler was called (through the
	// interceptors); false for refused calls.
	Ran bool
	// RequestBytes is the size of the request envelope (route, metadata,
	// arguments); ResponseBytes the size of the encoded result, 0 for
	// error-only methods and errors.
	RequestBytes, ResponseBytes int
}
