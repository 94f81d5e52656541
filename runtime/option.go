package runtime

import "log/slog"

// DefaultMaxPayload is the largest encoded argument or result a call may
// carry unless [WithMaxPayload] says otherwise: 4 MiB, as gRPC.
const DefaultMaxPayload = 4 << 20

// Option configures a [Client] or a [Server].
type Option func(*options)

type options struct {
	codec        Codec
	interceptors []Interceptor
	logger       *slog.Logger
	maxPayload   int
}

func newOptions(opts []Option) options {
	o := options{codec: JSON, maxPayload: DefaultMaxPayload}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// WithCodec sets the codec for arguments and results; both sides of a call
// must agree. The default is [JSON].
func WithCodec(c Codec) Option { return func(o *options) { o.codec = c } }

// WithInterceptors appends interceptors; the first given runs outermost.
func WithInterceptors(ics ...Interceptor) Option {
	return func(o *options) { o.interceptors = append(o.interceptors, ics...) }
}

// WithLogger sets where the runtime logs what it cannot return to anyone,
// such as a handler's panic. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxPayload sets the largest encoded arguments (client) or result
// (server) in bytes; larger ones fail with ResourceExhausted before they are
// sent.
func WithMaxPayload(n int) Option { return func(o *options) { o.maxPayload = n } }
