// Package basic is the golden case of the SessionRemote shape: error-only
// and (T, error) methods, a type from another package, a proxy.
package basic

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session"
)

// SessionRemote is served by every frontend server.
//
//rpcgen:service sys.sessionRemote
//rpcgen:proxy SessionProxy sid
type SessionRemote interface {
	// Bind binds session sid to user uid.
	Bind(ctx context.Context, sid session.ID, uid string) error
	GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error)
	GetBackendSessionsByUid(ctx context.Context, uid string) ([]session.Info, error)
	// KickBySid closes session sid, telling the client why.
	KickBySid(ctx context.Context, sid session.ID, reason string) error
	// PushAll sends every setting of session sid to the frontend.
	PushAll(ctx context.Context, sid session.ID, settings map[string]string) error
}
