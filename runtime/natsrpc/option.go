package natsrpc

import (
	"log/slog"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// DefaultSubjectPrefix is the first token of every subject natsrpc uses
// unless [WithSubjectPrefix] says otherwise.
const DefaultSubjectPrefix = "sessionrpc"

// DefaultProbeInterval is how long a call waits before its [Transport] asks
// whether the server still runs it, unless [WithProbeInterval] says otherwise.
const DefaultProbeInterval = time.Second

// Option configures a [Transport] or a [Server]. Options that concern only
// one of them say so and are ignored by the other.
type Option func(*options)

type options struct {
	prefix        string
	maxPayload    int
	maxInFlight   int
	probeInterval time.Duration
	logger        *slog.Logger
}

func newOptions(opts []Option) options {
	o := options{
		prefix:        DefaultSubjectPrefix,
		maxPayload:    runtime.DefaultMaxPayload,
		probeInterval: DefaultProbeInterval,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// WithSubjectPrefix sets the subject prefix: one or more dot-separated
// tokens without spaces or wildcards. Servers and the transports that call
// them must use the same prefix; transports and servers with different
// prefixes on one NATS never see each other.
func WithSubjectPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithMaxPayload sets the largest encoded arguments a [Transport] sends, or
// the largest encoded result a [Server] sends, in bytes; larger ones fail
// with ResourceExhausted. The default is [runtime.DefaultMaxPayload]. Whatever
// it says, no message may exceed the NATS server's max_payload (1 MiB unless
// configured): an envelope larger than that fails with ResourceExhausted too.
func WithMaxPayload(n int) Option {
	return func(o *options) { o.maxPayload = n }
}

// WithMaxInFlight bounds how many handlers a [Server] runs at once; calls
// beyond it wait, in arrival order, until a handler returns or their
// deadline passes. 0, the default, sets no bound. Transport: ignored.
func WithMaxInFlight(n int) Option {
	return func(o *options) { o.maxInFlight = n }
}

// WithProbeInterval sets how long a call waits for its answer before its
// [Transport] probes the server for it, and how often it probes again; a
// call to a server that died fails with Unavailable within about twice this
// interval. 0 turns probing off: such calls then wait for their deadline.
// Server: ignored.
func WithProbeInterval(d time.Duration) Option {
	return func(o *options) { o.probeInterval = d }
}

// WithLogger sets where natsrpc logs what it cannot return to anyone, such
// as an answer it could not send. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
