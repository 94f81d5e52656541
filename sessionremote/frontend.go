package sessionremote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// Frontend implements [SessionRemote] over the session store of one frontend
// server. Register it on the server the frontend serves:
//
//	RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
//
// Its reads share the store's immutable snapshots of a session
// ([session.Store.ExportShared]) instead of copying them, and take no lock
// while the answer is encoded.
type Frontend struct {
	store      *session.Store
	maxPayload int
}

var _ SessionRemote = (*Frontend)(nil)

// FrontendOption configures a [Frontend]; see [NewFrontend].
type FrontendOption func(*Frontend)

// WithMaxPayload tells the frontend the largest encoded result its server
// sends, in bytes: the limit its transport and server were given
// ([runtime.WithMaxPayload], tcp.WithMaxPayload, natsrpc.WithMaxPayload, and
// on NATS no more than the NATS server's max_payload). An answer to
// GetBackendSessionBySid or GetBackendSessionsByUid that would not fit fails
// with [ErrAnswerTooLarge] before it is encoded. The default is
// [runtime.DefaultMaxPayload].
func WithMaxPayload(n int) FrontendOption {
	return func(f *Frontend) { f.maxPayload = n }
}

// NewFrontend returns the sys.sessionRemote implementation over store.
// Options: [WithMaxPayload].
func NewFrontend(store *session.Store, opts ...FrontendOption) *Frontend {
	f := &Frontend{store: store, maxPayload: runtime.DefaultMaxPayload}
	for _, opt := range opts {
		opt(f)
	}
	return f
}

// Bind implements [SessionRemote.Bind].
func (f *Frontend) Bind(ctx context.Context, sid session.ID, uid string) error {
	if err := f.sameRun(ctx, sid); err != nil {
		return err
	}
	return coded(f.store.Bind(sid, uid))
}

// Unbind implements [SessionRemote.Unbind].
func (f *Frontend) Unbind(ctx context.Context, sid session.ID, uid string) error {
	if err := f.sameRun(ctx, sid); err != nil {
		return err
	}
	return coded(f.store.Unbind(sid, uid))
}

// Push implements [SessionRemote.Push].
func (f *Frontend) Push(ctx context.Context, sid session.ID, key string, value Setting) error {
	if err := f.sameRun(ctx, sid); err != nil {
		return err
	}
	return coded(f.store.Push(sid, key, value.JSON))
}

// PushAll implements [SessionRemote.PushAll].
func (f *Frontend) PushAll(ctx context.Context, sid session.ID, settings session.Settings) error {
	if err := f.sameRun(ctx, sid); err != nil {
		return err
	}
	return coded(f.store.PushAll(sid, settings))
}

// PushIf implements [SessionRemote.PushIf].
func (f *Frontend) PushIf(ctx context.Context, sid session.ID, key string, value string, ifRevision uint64) (WriteResult, error) {
	if err := f.sameRun(ctx, sid); err != nil {
		return 0, err
	}
	var raw json.RawMessage
	if value != "" {
		raw = json.RawMessage(value)
	}
	return writeResult(f.store.PushIf(sid, key, raw, ifRevision))
}

// UpdateSettings implements [SessionRemote.UpdateSettings].
func (f *Frontend) UpdateSettings(ctx context.Context, sid session.ID, set session.Settings, deleted []string, ifRevision uint64) (WriteResult, error) {
	if err := f.sameRun(ctx, sid); err != nil {
		return 0, err
	}
	changes := make(session.Settings, len(set)+len(deleted))
	for k, v := range set {
		if v == nil {
			// Not from the wire, where a value is at least null: a Go caller's
			// nil would delete, so it has to say so in deleted.
			return 0, fmt.Errorf("%w: key %q has no value", ErrInvalidSetting, k)
		}
		changes[k] = v
	}
	for _, k := range deleted {
		if _, ok := set[k]; ok {
			return 0, fmt.Errorf("%w: key %q is both set and deleted", ErrInvalidSetting, k)
		}
		changes[k] = nil
	}
	return writeResult(f.store.PushAllIf(sid, changes, ifRevision))
}

// writeResult turns what a conditional store write returned into the answer
// of the route: a failed condition is a result, not an error, so that the
// revision travels with it.
func writeResult(rev uint64, err error) (WriteResult, error) {
	switch {
	case errors.Is(err, session.ErrRevisionConflict):
		return NewWriteResult(false, rev), nil
	case err != nil:
		return 0, coded(err)
	}
	return NewWriteResult(true, rev), nil
}

// Sizes of the wire result structs around their one field: {"r0":...}.
const resultOverhead = len(`{"r0":}`)

// GetBackendSessionBySid implements [SessionRemote.GetBackendSessionBySid].
func (f *Frontend) GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // the caller is gone: build no answer for it
	}
	if err := f.sameRun(ctx, sid); err != nil {
		return nil, err
	}
	info, err := f.store.ExportShared(sid)
	if err != nil {
		return nil, coded(err)
	}
	if size := resultOverhead + info.EncodedSize(); f.maxPayload > 0 && size > f.maxPayload {
		return nil, fmt.Errorf("%w: sid %d: %d bytes, the limit is %d", ErrAnswerTooLarge, sid, size, f.maxPayload)
	}
	return &info, nil
}

// GetBackendSessionsByUid implements [SessionRemote.GetBackendSessionsByUid].
func (f *Frontend) GetBackendSessionsByUid(ctx context.Context, uid string) ([]session.Info, error) {
	if uid == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	infos := f.store.ExportSharedByUID(uid)
	if infos == nil {
		return []session.Info{}, nil
	}
	// [info,info,...]: the brackets and a comma between two.
	size := resultOverhead + 1 + len(infos)
	for _, info := range infos {
		size += info.EncodedSize()
	}
	if f.maxPayload > 0 && size > f.maxPayload {
		return nil, fmt.Errorf("%w: uid %q: %d sessions take %d bytes, the limit is %d",
			ErrAnswerTooLarge, uid, len(infos), size, f.maxPayload)
	}
	return infos, nil
}

// KickBySid implements [SessionRemote.KickBySid].
func (f *Frontend) KickBySid(ctx context.Context, sid session.ID, reason string) error {
	if f.sameRun(ctx, sid) != nil {
		return nil // a session of another run is gone, which is what a kick wants
	}
	f.store.KickBySID(sid, reason)
	return nil
}

// MetadataIncarnation is the metadata key under which a backend's call about
// one session names the run of the frontend its reference came from (see
// [session.WithIncarnation]). A frontend of another run answers
// [ErrSessionNotFound] (a kick: nothing happens), never acting on the session
// that now has the same id. [BackendSession] methods and
// [BackendSessionService.GetRef] send it.
const MetadataIncarnation = "sessionrpc-incarnation"

// sameRun fails with ErrSessionNotFound when the call names an incarnation
// of the frontend other than this one.
func (f *Frontend) sameRun(ctx context.Context, sid session.ID) error {
	want, _ := runtime.MetadataValue(ctx, MetadataIncarnation)
	if want == "" || want == f.store.Incarnation() {
		return nil
	}
	return fmt.Errorf("%w: sid %d of run %s of frontend %s, which has restarted since (now run %s)",
		ErrSessionNotFound, sid, want, f.store.FrontendID(), f.store.Incarnation())
}

// KickByUid implements [SessionRemote.KickByUid].
func (f *Frontend) KickByUid(ctx context.Context, uid string, reason string) error {
	if uid == "" {
		return fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	f.store.KickByUID(uid, reason)
	return nil
}
