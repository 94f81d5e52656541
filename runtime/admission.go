package runtime

import (
	"context"
	"slices"
	"strings"
)

// Admission decides whether a server runs a call, before anything else is
// done with it: it sees the route, the caller ([CallInfo] Peer) and the
// caller's metadata ([MetadataFromContext] on ctx), never the arguments,
// which are not decoded yet. Returning an error refuses the call with that
// error (a [*Error] chooses its code); a refused call costs the server its
// envelope, not its arguments. Install admissions with [WithAdmission].
//
// Authorization belongs here rather than in an [Interceptor], which runs
// after the arguments are decoded: a caller that may not call a route should
// not be able to make the server decode megabytes for it.
type Admission func(ctx context.Context, info CallInfo) error

// Errors of [RequireIdentity].
var (
	// ErrUnauthenticated: the transport authenticated nobody, e.g. TCP
	// without mutual TLS.
	ErrUnauthenticated = NewError(Unauthenticated, "caller not authenticated")
	// ErrPermissionDenied: the caller is known but not allowed the route.
	ErrPermissionDenied = NewError(PermissionDenied, "caller may not call this route")
)

// RequireIdentity returns an [Admission] that lets a call to a route
// starting with routePrefix through only when the transport authenticated
// the caller ([Peer.Identity]) as one of identities. Other routes pass. An
// unauthenticated caller gets Unauthenticated, any other caller
// PermissionDenied; the arguments of a refused call are never decoded.
//
// For example, only backends may push to or kick sessions:
//
//	runtime.NewServer(runtime.WithAdmission(
//		runtime.RequireIdentity("sys.", "backend-1", "backend-2")))
func RequireIdentity(routePrefix string, identities ...string) Admission {
	allowed := slices.Clone(identities)
	return func(ctx context.Context, info CallInfo) error {
		if !strings.HasPrefix(info.Route, routePrefix) {
			return nil
		}
		p := info.Peer
		if p == nil || p.Identity == "" {
			return wrapf(ErrUnauthenticated, "%s", info.Route)
		}
		if !slices.Contains(allowed, p.Identity) {
			return wrapf(ErrPermissionDenied, "%q may not call %s", p.Identity, info.Route)
		}
		return nil
	}
}

// wrapf returns an error matching sentinel whose message adds detail.
func wrapf(sentinel *Error, format string, args ...any) *Error {
	e := Errorf(sentinel.code, "%s: "+format, append([]any{sentinel.msg}, args...)...)
	e.key = sentinel.key
	return e
}
