package sessionremote

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// MetadataSession is the metadata key under which a frontend's call on a
// client's behalf carries that client's session ([WithSession]): the
// session's snapshot as JSON when it takes at most [InlineSessionLimit]
// bytes, else a reference to it, {"ref":{"frontendId":…,"incarnation":…,
// "id":…},"revision":…}, which the backend fetches when its handler first
// asks for the session.
const MetadataSession = "sessionrpc-session"

// InlineSessionLimit is the largest encoded snapshot that travels inline in
// a call's metadata: 3 KiB, below the 4 KiB a metadata value may take, so
// that a call has room for trace context (traceparent and tracestate, about
// 600 bytes) beside it. A larger session travels as a reference, fetched
// with one more call when the backend first uses it.
const InlineSessionLimit = 3 << 10

// WithSession returns a context whose calls carry s, the session of the
// client a frontend is calling on behalf of: the backend's handler gets a
// ready [*BackendSession] from [FromContext], as every pomelo handler gets
// its session argument, without a round trip to the frontend (for a
// session over [InlineSessionLimit], with one, when it first asks). It
// works on every transport: the session travels in the call's metadata,
// under [MetadataSession].
//
// The snapshot is the session as it is when WithSession is called. The
// backend honours it only from callers it trusts as frontends; see
// [BackendSessionService.Interceptor].
func WithSession(ctx context.Context, s *session.Session) context.Context {
	return runtime.WithMetadata(ctx, runtime.Metadata{MetadataSession: encodeCarried(s.ExportShared())})
}

// carriedWire is the JSON of a session in metadata: a snapshot, or a
// reference (Ref set) with the revision the frontend saw.
type carriedWire struct {
	session.Info
	Ref *session.Ref `json:"ref,omitempty"`
}

// refWire is the reference form of carriedWire, without the snapshot's
// empty fields.
type refWire struct {
	Ref      session.Ref `json:"ref"`
	Revision uint64      `json:"revision,omitempty"`
}

// encodeCarried returns the metadata value that carries info.
func encodeCarried(info session.Info) string {
	var b []byte
	var err error
	if info.EncodedSize() <= InlineSessionLimit {
		b, err = json.Marshal(info)
	} else {
		b, err = json.Marshal(refWire{Ref: info.Ref(), Revision: info.Revision})
	}
	if err != nil {
		// The store holds only valid JSON, so an Info always encodes.
		panic(fmt.Sprintf("sessionremote: encode a session for metadata: %v", err))
	}
	return string(b)
}

// ErrNoSession (FailedPrecondition) is what [FromContext] returns when the
// call carries no session it may honour: the caller sent none, the caller
// is not trusted as a frontend, or the server runs no
// [BackendSessionService.Interceptor].
var ErrNoSession = runtime.NewError(runtime.FailedPrecondition, "no session with the call")

// ErrInvalidSession (InvalidArgument) is the error of
// [BackendSessionService.Create] for a snapshot without a frontend id or
// session id, and of [FromContext] for a session in metadata that does not
// decode.
var ErrInvalidSession = runtime.NewError(runtime.InvalidArgument, "invalid session snapshot")

// An InterceptorOption configures [BackendSessionService.Interceptor]: whom
// it trusts as a frontend.
type InterceptorOption func(*interceptorOptions)

type interceptorOptions struct {
	trusted []func(*runtime.Peer) bool
}

// TrustFrontends makes the interceptor honour the sessions of callers for
// which trusted returns true. trusted sees the caller as the transport
// authenticated it ([runtime.Peer]): with TCP and mutual TLS, its
// certificate's identity; nil in-process. Several trust options add up: a
// caller any of them trusts is trusted.
func TrustFrontends(trusted func(p *runtime.Peer) bool) InterceptorOption {
	return func(o *interceptorOptions) { o.trusted = append(o.trusted, trusted) }
}

// TrustIdentities trusts the callers the transport authenticated as one of
// identities ([runtime.Peer] Identity): the frontends' certificate names
// with TCP and mutual TLS.
func TrustIdentities(identities ...string) InterceptorOption {
	ids := slices.Clone(identities)
	return TrustFrontends(func(p *runtime.Peer) bool {
		return p != nil && p.Identity != "" && slices.Contains(ids, p.Identity)
	})
}

// TrustAll trusts every caller: for in-process deployments, and for NATS,
// where the transport authenticates nobody and who may publish calls to a
// backend is for NATS permissions to decide (natsrpc's package
// documentation shows them). On TCP without mutual TLS it lets anyone who
// can reach the backend's port claim any uid.
func TrustAll() InterceptorOption {
	return TrustFrontends(func(*runtime.Peer) bool { return true })
}

// Interceptor returns the server interceptor that hands each call's session
// to its handler: install it on a backend's server, and a handler called by
// a frontend on a client's behalf ([WithSession], [Forward]) gets the
// client's session with [FromContext]:
//
//	srv := runtime.NewServer(runtime.WithInterceptors(
//		svc.Interceptor(sessionremote.TrustIdentities("connector-1", "connector-2"))))
//
// A session in metadata claims a uid, so the interceptor honours it only
// from callers trusted as frontends ([TrustFrontends], [TrustIdentities],
// [TrustAll]); by default it trusts nobody. From anyone else the session is
// ignored, and FromContext reports [ErrNoSession]: otherwise anyone who may
// call a backend could forge a uid. Sessions the handler gets call their
// frontend through s, like those of [BackendSessionService.Get].
//
// The snapshot is decoded when the handler first asks for it, so a call
// whose handler does not pays nothing for it; a call without a session
// pays one map lookup.
func (s *BackendSessionService) Interceptor(opts ...InterceptorOption) runtime.Interceptor {
	var o interceptorOptions
	for _, opt := range opts {
		opt(&o)
	}
	trusted := func(p *runtime.Peer) bool {
		for _, f := range o.trusted {
			if f(p) {
				return true
			}
		}
		return false
	}
	return func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		v, ok := runtime.MetadataValue(ctx, MetadataSession)
		if !ok || !info.Server {
			return next(ctx, args, result)
		}
		c := &carried{svc: s, raw: v}
		if !trusted(info.Peer) {
			c = &carried{untrusted: true}
		}
		return next(context.WithValue(ctx, carriedKey{}, c), args, result)
	}
}

type carriedKey struct{}

// carried is the session a call carries, decoded (or fetched) on first use.
type carried struct {
	svc       *BackendSessionService
	raw       string
	untrusted bool

	mu sync.Mutex
	bs *BackendSession
}

// FromContext returns the session of the client on whose behalf a frontend
// made the call being handled ([WithSession], [Forward]): pomelo's session
// argument of a handler. The server must run
// [BackendSessionService.Interceptor]; the session is honoured only when
// the caller is trusted as a frontend, and otherwise FromContext fails
// with [ErrNoSession], as it does for a call that carries no session.
//
// Every call of FromContext in one handler returns the same
// [*BackendSession], which behaves exactly as one from
// [BackendSessionService.Get]: Bind, Push and the others change the real
// session on its frontend, and name the frontend's run, so that they fail
// with ErrSessionNotFound once it restarted. A session too large to travel
// inline is fetched from its frontend on the first call, with ctx; if that
// fails, FromContext returns the error and the next call tries again.
func FromContext(ctx context.Context) (*BackendSession, error) {
	c, _ := ctx.Value(carriedKey{}).(*carried)
	switch {
	case c == nil:
		return nil, ErrNoSession
	case c.untrusted:
		return nil, fmt.Errorf("%w: the caller sent one, but is not trusted as a frontend (sessionremote.TrustFrontends)", ErrNoSession)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bs != nil {
		return c.bs, nil
	}
	var w carriedWire
	if err := json.Unmarshal([]byte(c.raw), &w); err != nil {
		return nil, fmt.Errorf("%w: metadata %s: %v", ErrInvalidSession, MetadataSession, err)
	}
	var bs *BackendSession
	var err error
	if w.Ref != nil {
		bs, err = c.svc.getRef(ctx, *w.Ref)
	} else {
		bs, err = c.svc.Create(w.Info)
	}
	if err != nil {
		return nil, err
	}
	c.bs = bs
	return bs, nil
}

// getRef is GetRef, for a reference that came in metadata: checked first.
func (s *BackendSessionService) getRef(ctx context.Context, ref session.Ref) (*BackendSession, error) {
	if ref.FrontendID == "" || ref.ID == 0 {
		return nil, fmt.Errorf("%w: reference %+v names no session", ErrInvalidSession, ref)
	}
	return s.GetRef(ctx, ref)
}

// Create returns the backend's snapshot of the session info describes, as
// a frontend sent it: pomelo's BackendSessionService.create(opts). The
// result behaves exactly as one from [BackendSessionService.Get], and calls
// the frontend through s; it shares no memory with info. Without a frontend
// id or with a zero session id, Create fails with [ErrInvalidSession]; with
// a setting that is not valid JSON, with [ErrInvalidSetting].
func (s *BackendSessionService) Create(info session.Info) (*BackendSession, error) {
	switch {
	case info.FrontendID == "":
		return nil, fmt.Errorf("%w: no frontend id (sid %d)", ErrInvalidSession, info.ID)
	case info.ID == 0:
		return nil, fmt.Errorf("%w: session id 0 on frontend %s", ErrInvalidSession, info.FrontendID)
	}
	for k, v := range info.Settings {
		if !json.Valid(v) {
			return nil, fmt.Errorf("%w: key %q of sid %d is not JSON", ErrInvalidSetting, k, info.ID)
		}
	}
	info.Settings = info.Settings.Clone()
	return s.session(info.FrontendID, info), nil
}
