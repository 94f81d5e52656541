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

// A TransportOption configures a [Transport].
type TransportOption interface{ applyToTransport(*options) }

// A ServerOption configures a [Server].
type ServerOption interface{ applyToServer(*options) }

// An Option configures a [Transport] and a [Server] alike.
type Option interface {
	TransportOption
	ServerOption
}

type bothOption func(*options)

func (f bothOption) applyToTransport(o *options) { f(o) }
func (f bothOption) applyToServer(o *options)    { f(o) }

type serverOption func(*options)

func (f serverOption) applyToServer(o *options) { f(o) }

type transportOption func(*options)

func (f transportOption) applyToTransport(o *options) { f(o) }

type options struct {
	prefix        string
	maxPayload    int
	maxConcurrent int
	probeInterval time.Duration
	logger        *slog.Logger
	wire          int // the newest wire version spoken; see batch.go
}

func defaultOptions() options {
	return options{
		prefix:        DefaultSubjectPrefix,
		maxPayload:    runtime.DefaultMaxPayload,
		maxConcurrent: DefaultMaxConcurrentCalls,
		probeInterval: DefaultProbeInterval,
		wire:          batchVersion,
	}
}

func newTransportOptions(opts []TransportOption) options {
	o := defaultOptions()
	for _, opt := range opts {
		opt.applyToTransport(&o)
	}
	return o.normalize()
}

func newServerOptions(opts []ServerOption) options {
	o := defaultOptions()
	for _, opt := range opts {
		opt.applyToServer(&o)
	}
	return o.normalize()
}

func (o options) normalize() options {
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.maxConcurrent <= 0 {
		o.maxConcurrent = DefaultMaxConcurrentCalls
	}
	return o
}

// WithSubjectPrefix sets the subject prefix: one or more dot-separated
// tokens without spaces or wildcards. Servers and the transports that call
// them must use the same prefix; transports and servers with different
// prefixes on one NATS never see each other.
func WithSubjectPrefix(prefix string) Option {
	return bothOption(func(o *options) { o.prefix = prefix })
}

// WithMaxPayload sets the largest encoded arguments a [Transport] sends, or
// the largest encoded result a [Server] sends, in bytes; larger ones fail
// with ResourceExhausted. The default is [runtime.DefaultMaxPayload]. Whatever
// it says, no message may exceed the NATS server's max_payload (1 MiB unless
// configured): an envelope larger than that fails with ResourceExhausted too.
func WithMaxPayload(n int) Option {
	return bothOption(func(o *options) { o.maxPayload = n })
}

// WithMaxConcurrentCalls bounds how many handlers a [Server] runs at once
// (default [DefaultMaxConcurrentCalls]); calls beyond it wait, in arrival
// order, within the server's byte budget ([runtime.WithServerBudget]),
// until a handler returns. Zero or less means the default.
func WithMaxConcurrentCalls(n int) ServerOption {
	return serverOption(func(o *options) { o.maxConcurrent = n })
}

// WithProbeInterval sets how long a call waits for its answer before its
// [Transport] probes the server for it, and how often it probes again; a
// call to a server that died fails with Unavailable within about twice this
// interval. 0 turns probing off: such calls then wait for their deadline.
func WithProbeInterval(d time.Duration) TransportOption {
	return transportOption(func(o *options) { o.probeInterval = d })
}

// WithLogger sets where natsrpc logs what it cannot return to anyone, such
// as an answer it could not send. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return bothOption(func(o *options) { o.logger = l })
}

// WithBatches(false) makes a [Transport] send every call singly, and a
// [Server] serve single calls only: the wire of the releases before
// batches (see Batches in the package documentation). Either still talks to
// transports and servers that batch. Batches are on by default.
func WithBatches(on bool) Option {
	return bothOption(func(o *options) {
		o.wire = 1
		if on {
			o.wire = batchVersion
		}
	})
}
