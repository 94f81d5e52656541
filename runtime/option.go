package runtime

import (
	"log/slog"
	"time"
)

// DefaultMaxPayload is the largest encoded argument or result a call may
// carry unless [WithMaxPayload] says otherwise: 4 MiB, as gRPC.
const DefaultMaxPayload = 4 << 20

// DefaultServerBudget is the bytes of calls in flight a [Server] holds at
// most, on all its transports together, unless [WithServerBudget] says
// otherwise: 256 MiB.
const DefaultServerBudget = 256 << 20

// A ClientOption configures a [Client].
type ClientOption interface{ applyToClient(*clientOptions) }

// A ServerOption configures a [Server].
type ServerOption interface{ applyToServer(*serverOptions) }

// An Option configures a [Client] and a [Server] alike: both sides of a call
// must agree on it, or it makes sense on both.
type Option interface {
	ClientOption
	ServerOption
}

type clientOptions struct {
	codec          Codec
	interceptors   []Interceptor
	maxPayload     int
	defaultTimeout time.Duration
}

type serverOptions struct {
	codec        Codec
	interceptors []Interceptor
	maxPayload   int
	logger       *slog.Logger
	admissions   []Admission
	observer     Observer
	serverBudget int64
}

func newClientOptions(opts []ClientOption) clientOptions {
	o := clientOptions{codec: JSON, maxPayload: DefaultMaxPayload}
	for _, opt := range opts {
		opt.applyToClient(&o)
	}
	return o
}

func newServerOptions(opts []ServerOption) serverOptions {
	o := serverOptions{codec: JSON, maxPayload: DefaultMaxPayload, serverBudget: DefaultServerBudget}
	for _, opt := range opts {
		opt.applyToServer(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

type codecOption struct{ c Codec }

func (o codecOption) applyToClient(co *clientOptions) { co.codec = o.c }
func (o codecOption) applyToServer(so *serverOptions) { so.codec = o.c }

// WithCodec sets the codec for arguments and results; both sides of a call
// must agree. The default is [JSON].
func WithCodec(c Codec) Option { return codecOption{c} }

type interceptorsOption struct{ ics []Interceptor }

func (o interceptorsOption) applyToClient(co *clientOptions) {
	co.interceptors = append(co.interceptors, o.ics...)
}
func (o interceptorsOption) applyToServer(so *serverOptions) {
	so.interceptors = append(so.interceptors, o.ics...)
}

// WithInterceptors appends interceptors; the first given runs outermost.
func WithInterceptors(ics ...Interceptor) Option { return interceptorsOption{ics} }

type maxPayloadOption struct{ n int }

func (o maxPayloadOption) applyToClient(co *clientOptions) { co.maxPayload = o.n }
func (o maxPayloadOption) applyToServer(so *serverOptions) { so.maxPayload = o.n }

// WithMaxPayload sets the largest encoded arguments (client) or result
// (server) in bytes, and the largest arguments a server decodes; larger ones
// fail with ResourceExhausted. The default is [DefaultMaxPayload].
func WithMaxPayload(n int) Option { return maxPayloadOption{n} }

type serverOptionFunc func(*serverOptions)

func (f serverOptionFunc) applyToServer(o *serverOptions) { f(o) }

type clientOptionFunc func(*clientOptions)

func (f clientOptionFunc) applyToClient(o *clientOptions) { f(o) }

// WithLogger sets where a server logs what it cannot return to anyone, such
// as a handler's panic. The default is [slog.Default].
func WithLogger(l *slog.Logger) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.logger = l })
}

// WithAdmission appends admissions, which run in order before a call's
// arguments are decoded; the first to return an error refuses the call. See
// [Admission].
func WithAdmission(as ...Admission) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.admissions = append(o.admissions, as...) })
}

// WithObserver sets the [Observer] that sees every call the server answers.
// Compose several in one if you need more.
func WithObserver(obs Observer) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.observer = obs })
}

// WithServerBudget sets the bytes of calls in flight the server holds at
// most, on all its transports together: request envelopes being decoded or
// handled (each also charged a few hundred bytes of bookkeeping) and answers
// that transports have not written yet. A call that would go over it is
// answered at once with [ErrOverBudget] (ResourceExhausted) without being
// decoded, unless nothing else is in flight: a call that fits on its own
// always runs. The default is [DefaultServerBudget]; 0 or less means no
// limit.
func WithServerBudget(bytes int64) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.serverBudget = bytes })
}

// WithDefaultTimeout gives calls made without a deadline this one (none by
// default: such a call waits as long as its server takes). A deadline on the
// call's context always wins. 10 to 30 seconds suits most clusters; pomelo's
// was 30.
func WithDefaultTimeout(d time.Duration) ClientOption {
	return clientOptionFunc(func(o *clientOptions) { o.defaultTimeout = d })
}
