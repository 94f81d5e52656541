package runtime

import "context"

// CallInfo describes a call to an [Interceptor].
type CallInfo struct {
	Route    string // e.g. "sys.sessionRemote.bind"
	ServerID string // the target server; empty on the server side
	Server   bool   // true when the interceptor runs on the server
	// Peer is the caller as the server's transport saw it; nil on the
	// client side.
	Peer *Peer
	// UnknownRoute is true on the server for a route that no registered
	// service offers. Such calls are refused (Unimplemented, or sooner), so
	// only an [Observer] sees them; since any caller can make up routes, it
	// should not record Route as it came. Always false on the client side
	// and in interceptors.
	UnknownRoute bool
}

// CallFunc runs the rest of a call: on the client it encodes args, sends them
// and decodes into result; on the server it calls the handler, which fills
// result. result is nil for methods that return only an error.
type CallFunc func(ctx context.Context, args, result any) error

// Interceptor wraps calls, on clients and servers alike: it sees the route and
// the typed arguments, and decides whether and how to call next. Logging,
// metrics, authorization and retries are interceptors.
type Interceptor func(ctx context.Context, info CallInfo, args, result any, next CallFunc) error

// chain folds interceptors into one, the first outermost. It returns nil for
// none, so that callers can skip the indirection.
func chain(ics []Interceptor) Interceptor {
	switch len(ics) {
	case 0:
		return nil
	case 1:
		return ics[0]
	}
	return func(ctx context.Context, info CallInfo, args, result any, next CallFunc) error {
		return runChain(ctx, ics, info, args, result, next)
	}
}

func runChain(ctx context.Context, ics []Interceptor, info CallInfo, args, result any, final CallFunc) error {
	if len(ics) == 1 {
		return ics[0](ctx, info, args, result, final)
	}
	return ics[0](ctx, info, args, result, func(ctx context.Context, args, result any) error {
		return runChain(ctx, ics[1:], info, args, result, final)
	})
}
