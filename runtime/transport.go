package runtime

import "context"

// Transport carries encoded calls from a [Client] to servers by server id.
// In-process ([InProc]), TCP and NATS transports implement it; so can yours.
//
// RoundTrip returns the server's response, whatever its code, or an error
// when no response arrived: Unavailable for an unknown, unreachable or stopped
// server (at once, never a hang), DeadlineExceeded or Canceled when ctx ended
// first, ResourceExhausted when req is too large to send. It must return by
// the time ctx is done, and must not keep req or its payload after it
// returns: callers reuse them. The response's payload is the caller's.
type Transport interface {
	RoundTrip(ctx context.Context, serverID string, req *Request) (Response, error)
}

// Invoker makes a typed call to a route on a server. Generated clients call
// through it; [*Client] is the Invoker over any [Transport].
type Invoker interface {
	Invoke(ctx context.Context, serverID, route string, args, result any) error
}

// Registrar holds the services a server offers. Generated RegisterXServer
// functions register on it; [*Server] is one.
type Registrar interface {
	RegisterService(desc *ServiceDesc, impl any)
}

// ServiceDesc describes a service to a [Registrar]. rpcgen generates one per
// annotated interface; write one by hand only to serve a route without it.
type ServiceDesc struct {
	Name    string // e.g. "sys.sessionRemote"
	Methods []MethodDesc
}

// MethodDesc describes one method of a service.
type MethodDesc struct {
	Route     string     // the full route, e.g. "sys.sessionRemote.bind"
	NewArgs   func() any // returns a pointer to a zero arguments struct
	NewResult func() any // returns a pointer to a zero result struct; nil for error-only methods
	// NewCall, when set, returns what NewArgs and NewResult return, made
	// together: one allocation per call where they take two. rpcgen
	// generates it for methods with a result.
	NewCall func() (args, result any)
	Handler MethodHandler
}

// MethodHandler calls the implementation impl with decoded args and stores
// what it returns in result (nil for error-only methods).
type MethodHandler func(ctx context.Context, impl, args, result any) error

// ContextError returns the status error a caller sees when its context
// ended with err: DeadlineExceeded for context.DeadlineExceeded, Canceled
// otherwise. Both match the context error with errors.Is.
func ContextError(err error) *Error {
	if err == context.DeadlineExceeded {
		return errDeadline
	}
	return errCanceled
}

// ErrNotDelivered is the identity of the Unavailable errors a [Transport]
// returns when it knows the request never reached a server: the server id
// is unknown, the dial failed, NATS had no responders for it. Such a call
// did not run, so it is safe to send it elsewhere; any other Unavailable
// error may come from a call that ran. Transports wrap it:
//
//	fmt.Errorf("%w: dial %s: %v", runtime.ErrNotDelivered, addr, err)
//
// and callers test it with errors.Is.
var ErrNotDelivered = NewError(Unavailable, "call not delivered")

var (
	errDeadline = NewError(DeadlineExceeded, "deadline exceeded")
	errCanceled = NewError(Canceled, "call canceled")
)
