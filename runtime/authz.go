package runtime

import (
	"context"
	"slices"
	"strings"
)

// Errors of [RequireIdentity].
var (
	// ErrUnauthenticated: the transport authenticated nobody, e.g. TCP
	// without mutual TLS.
	ErrUnauthenticated = NewError(Unauthenticated, "caller not authenticated")
	// ErrPermissionDenied: the caller is known but not allowed the route.
	ErrPermissionDenied = NewError(PermissionDenied, "caller may not call this route")
)

// RequireIdentity returns a server interceptor that lets a call to a route
// starting with routePrefix through only when the transport authenticated
// the caller ([Peer.Identity]) as one of identities. Other routes pass
// untouched. An unauthenticated caller gets Unauthenticated, any other
// caller PermissionDenied; neither reaches the handler.
//
// For example, only backends may push to or kick sessions:
//
//	runtime.NewServer(runtime.WithInterceptors(
//		runtime.RequireIdentity("sys.", "backend-1", "backend-2")))
func RequireIdentity(routePrefix string, identities ...string) Interceptor {
	allowed := slices.Clone(identities)
	return func(ctx context.Context, info CallInfo, args, result any, next CallFunc) error {
		if !info.Server || !strings.HasPrefix(info.Route, routePrefix) {
			return next(ctx, args, result)
		}
		p, ok := PeerFromContext(ctx)
		if !ok || p.Identity == "" {
			return wrapf(ErrUnauthenticated, "%s", info.Route)
		}
		if !slices.Contains(allowed, p.Identity) {
			return wrapf(ErrPermissionDenied, "%q may not call %s", p.Identity, info.Route)
		}
		return next(ctx, args, result)
	}
}

// wrapf returns an error matching sentinel whose message adds detail.
func wrapf(sentinel *Error, format string, args ...any) *Error {
	e := Errorf(sentinel.code, "%s: "+format, append([]any{sentinel.msg}, args...)...)
	e.key = sentinel.key
	return e
}
