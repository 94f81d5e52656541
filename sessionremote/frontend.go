package sessionremote

import (
	"context"
	"fmt"

	"github.com/sessionrpc/sessionrpc/session"
)

// Frontend implements [SessionRemote] over the session store of one frontend
// server. Register it on the server the frontend serves:
//
//	RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
type Frontend struct {
	store *session.Store
}

var _ SessionRemote = (*Frontend)(nil)

// NewFrontend returns the sys.sessionRemote implementation over store.
func NewFrontend(store *session.Store) *Frontend { return &Frontend{store: store} }

// Bind implements [SessionRemote.Bind].
func (f *Frontend) Bind(ctx context.Context, sid session.ID, uid string) error {
	return coded(f.store.Bind(sid, uid))
}

// Unbind implements [SessionRemote.Unbind].
func (f *Frontend) Unbind(ctx context.Context, sid session.ID, uid string) error {
	return coded(f.store.Unbind(sid, uid))
}

// Push implements [SessionRemote.Push].
func (f *Frontend) Push(ctx context.Context, sid session.ID, key string, value Setting) error {
	return coded(f.store.Push(sid, key, value.JSON))
}

// PushAll implements [SessionRemote.PushAll].
func (f *Frontend) PushAll(ctx context.Context, sid session.ID, settings session.Settings) error {
	return coded(f.store.PushAll(sid, settings))
}

// GetBackendSessionBySid implements [SessionRemote.GetBackendSessionBySid].
func (f *Frontend) GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error) {
	info, err := f.store.Export(sid)
	if err != nil {
		return nil, coded(err)
	}
	return &info, nil
}

// GetBackendSessionsByUid implements [SessionRemote.GetBackendSessionsByUid].
func (f *Frontend) GetBackendSessionsByUid(ctx context.Context, uid string) ([]session.Info, error) {
	if uid == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	infos := f.store.ExportByUID(uid)
	if infos == nil {
		infos = []session.Info{}
	}
	return infos, nil
}

// KickBySid implements [SessionRemote.KickBySid].
func (f *Frontend) KickBySid(ctx context.Context, sid session.ID, reason string) error {
	f.store.KickBySID(sid, reason)
	return nil
}

// KickByUid implements [SessionRemote.KickByUid].
func (f *Frontend) KickByUid(ctx context.Context, uid string, reason string) error {
	if uid == "" {
		return fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	f.store.KickByUID(uid, reason)
	return nil
}
