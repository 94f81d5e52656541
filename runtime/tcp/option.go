package tcp

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Option configures a [Transport] or a [Server]. Every option is accepted by
// both; one that means nothing to a side (the dial timeout to a server, the
// in-flight limit to a transport) is ignored there.
type Option func(*options)

// frameOverhead is the room a frame keeps beside its payload by default: the
// frame header and the envelope's route, metadata, error key and message.
// The envelope's own limits (route 1 KiB, 64 metadata entries of 4 KiB,
// messages of 64 KiB) keep a legal envelope well inside it.
const frameOverhead = 1 << 20

type options struct {
	tls         *tls.Config
	maxPayload  int
	maxFrame    int // 0: maxPayload + frameOverhead
	dialTimeout time.Duration
	maxInFlight int
	logger      *slog.Logger
	backoffMin  time.Duration
	backoffMax  time.Duration
	idleTimeout time.Duration // 0: never
	ioTimeout   time.Duration // 0: never; see WithFrameTimeout
}

// Defaults of the server's time limits.
const (
	defaultIdleTimeout  = 5 * time.Minute
	defaultFrameTimeout = 30 * time.Second
)

func newOptions(opts []Option) options {
	o := options{
		maxPayload:  runtime.DefaultMaxPayload,
		dialTimeout: 5 * time.Second,
		maxInFlight: 10000,
		backoffMin:  10 * time.Millisecond,
		backoffMax:  time.Second,
		idleTimeout: defaultIdleTimeout,
		ioTimeout:   defaultFrameTimeout,
	}
	def := o
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxPayload < 0 {
		o.maxPayload = 0
	}
	if o.dialTimeout <= 0 {
		o.dialTimeout = def.dialTimeout
	}
	if o.maxInFlight <= 0 {
		o.maxInFlight = def.maxInFlight
	}
	if o.backoffMin < 0 {
		o.backoffMin = 0
	}
	if o.maxFrame <= 0 {
		o.maxFrame = o.maxPayload + frameOverhead
	}
	if o.maxFrame > maxFrameLimit {
		o.maxFrame = maxFrameLimit
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.backoffMax < o.backoffMin {
		o.backoffMax = o.backoffMin
	}
	o.idleTimeout = max(o.idleTimeout, 0)
	o.ioTimeout = max(o.ioTimeout, 0)
	return o
}

// WithTLS secures connections with TLS. On a [Transport] cfg is the client
// configuration (RootCAs, and Certificates for mutual TLS; ServerName
// defaults to the host of the dialled address). On a [Server] it is the
// server configuration; ClientAuth set to tls.RequireAndVerifyClientCert
// makes it mutual TLS, and handlers then see the client certificate's
// subject common name as [runtime.Peer] Identity. Both sides must agree.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithMaxPayload sets the largest encoded arguments a [Transport] sends: a
// larger request fails with ResourceExhausted before it is sent. The default
// is [runtime.DefaultMaxPayload]; it also sizes the default frame limit.
func WithMaxPayload(n int) Option { return func(o *options) { o.maxPayload = n } }

// WithMaxFrame sets the largest frame either side accepts, in bytes after the
// 4-byte length. A peer that sends a larger one has its connection closed.
// The default is the max payload plus 1 MiB for the envelope around it.
func WithMaxFrame(n int) Option { return func(o *options) { o.maxFrame = n } }

// WithDialTimeout bounds how long a [Transport] dials a server, TLS handshake
// included (default 5s; a call never waits longer than its own ctx), and how
// long a [Server] gives an accepted connection to complete its TLS
// handshake: a peer that connects and stalls the handshake is closed after
// it. Zero or less means the default.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithMaxInFlight bounds the calls a [Server] runs at once for one
// connection (default 10000). Calls past it are answered ResourceExhausted at
// once rather than queued. Zero or less means the default.
func WithMaxInFlight(n int) Option { return func(o *options) { o.maxInFlight = n } }

// WithIdleTimeout sets how long a [Server] keeps a connection that has no
// call in flight and sends nothing (default 5 minutes; zero disables it).
// Such a connection is closed with a go-away frame, which tells the
// [Transport] that no call it sent since was or will be served, so that it
// sends those calls again on a fresh connection: closing an idle connection
// never fails a call. A Transport ignores this option.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idleTimeout = d } }

// WithFrameTimeout bounds, on a [Server], how long frames may take to cross
// a connection (default 30s; zero disables it):
//
//   - once the first byte of a frame has arrived, the whole frame must
//     arrive within d, so that a peer trickling bytes (slowloris) cannot
//     hold a connection and its buffer;
//   - a new connection must deliver its first frame within d of being
//     accepted (of its TLS handshake ending; see [WithDialTimeout]);
//   - a peer that stops reading its answers is closed within d of taking its
//     last byte (with TLS, once a write of queued answers takes d).
//
// A Transport ignores this option.
func WithFrameTimeout(d time.Duration) Option { return func(o *options) { o.ioTimeout = d } }

// WithLogger sets where connection-level events go: protocol violations,
// failed handshakes, accept errors. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBackoff sets how a [Transport] holds off dialling an address after a
// dial failed: min after the first failure, doubling up to max, back to none
// after a successful dial. Calls during the hold-off fail with Unavailable at
// once. The default is 10ms to 1s; WithBackoff(0, 0) dials on every call.
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) { o.backoffMin, o.backoffMax = min, max }
}
