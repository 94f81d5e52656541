package tcp

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

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

// frameOverhead is the room a frame keeps beside its payload by default: the
// frame header and the envelope's route, metadata, error key and message.
// The envelope's own limits (route 1 KiB, 64 metadata entries of 4 KiB,
// messages of 64 KiB) keep a legal envelope well inside it.
const frameOverhead = 1 << 20

type options struct {
	tls           *tls.Config
	maxPayload    int
	maxFrame      int // 0: maxPayload + frameOverhead
	dialTimeout   time.Duration
	maxConcurrent int
	connBudget    int64 // 0: 2 × maxFrame
	partialBudget int64 // 0: max(defaultPartialBudget, 4 × maxFrame)
	serverID      string
	incarnation   string
	logger        *slog.Logger
	backoffMin    time.Duration
	backoffMax    time.Duration
	idleTimeout   time.Duration // 0: never
	ioTimeout     time.Duration // 0: never; see WithFrameTimeout
}

// Defaults of the server's limits.
const (
	defaultIdleTimeout   = 5 * time.Minute
	defaultFrameTimeout  = 30 * time.Second
	defaultMaxConcurrent = 256      // handlers at once per connection, as Go's HTTP/2 server's streams
	defaultPartialBudget = 64 << 20 // bytes of frames being received, all connections together
)

func defaultOptions() options {
	return options{
		maxPayload:    runtime.DefaultMaxPayload,
		dialTimeout:   5 * time.Second,
		maxConcurrent: defaultMaxConcurrent,
		backoffMin:    10 * time.Millisecond,
		backoffMax:    time.Second,
		idleTimeout:   defaultIdleTimeout,
		ioTimeout:     defaultFrameTimeout,
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
	def := defaultOptions()
	if o.maxPayload < 0 {
		o.maxPayload = 0
	}
	if o.dialTimeout <= 0 {
		o.dialTimeout = def.dialTimeout
	}
	if o.maxConcurrent <= 0 {
		o.maxConcurrent = def.maxConcurrent
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
	if o.connBudget == 0 {
		o.connBudget = 2 * int64(o.maxFrame)
	}
	if o.partialBudget == 0 {
		o.partialBudget = max(defaultPartialBudget, 4*int64(o.maxFrame))
	}
	return o
}

// WithTLS secures connections with TLS. On a [Transport] cfg is the client
// configuration (RootCAs, and Certificates for mutual TLS; ServerName
// defaults to the host of the dialled address). On a [Server] it is the
// server configuration; ClientAuth set to tls.RequireAndVerifyClientCert
// makes it mutual TLS, and handlers then see the client certificate's
// subject common name as [runtime.Peer] Identity. Both sides must agree.
func WithTLS(cfg *tls.Config) Option { return bothOption(func(o *options) { o.tls = cfg }) }

// WithMaxPayload sets the largest encoded arguments a [Transport] sends: a
// larger request fails with ResourceExhausted before it is sent. The default
// is [runtime.DefaultMaxPayload]; it also sizes the default frame limit.
func WithMaxPayload(n int) Option { return bothOption(func(o *options) { o.maxPayload = n }) }

// WithMaxFrame sets the largest frame either side accepts, in bytes after the
// 4-byte length. A peer that sends a larger one has its connection closed.
// The default is the max payload plus 1 MiB for the envelope around it.
func WithMaxFrame(n int) Option { return bothOption(func(o *options) { o.maxFrame = n }) }

// WithDialTimeout bounds how long a [Transport] dials a server, TLS handshake
// included (default 5s; a call never waits longer than its own ctx), and how
// long a [Server] gives an accepted connection to complete its TLS
// handshake: a peer that connects and stalls the handshake is closed after
// it. Zero or less means the default.
func WithDialTimeout(d time.Duration) Option {
	return bothOption(func(o *options) { o.dialTimeout = d })
}

// WithMaxConcurrentCalls bounds the handlers a [Server] runs at once for one
// connection (default 256, as Go's HTTP/2 server bounds a connection's
// streams). Further calls wait in arrival order, within the connection's
// budget ([WithConnBudget]), and start as handlers return; those of a
// connection that closes never start. Zero or less means the default.
func WithMaxConcurrentCalls(n int) ServerOption {
	return serverOption(func(o *options) { o.maxConcurrent = n })
}

// WithConnBudget sets how many bytes of calls a [Server] holds for one
// connection: request envelopes waiting or running (each also charged a
// few hundred bytes of bookkeeping) and answers not yet written. A request
// that would go over it is answered at once with [runtime.ErrOverBudget]
// (ResourceExhausted), without being decoded, unless the connection holds
// nothing else: a call that fits on its own is never refused for size. The
// charges also count against the server's budget
// ([runtime.WithServerBudget]). The default is twice the frame limit; a
// negative value means no limit of its own.
func WithConnBudget(bytes int64) ServerOption {
	return serverOption(func(o *options) { o.connBudget = bytes })
}

// WithPartialFrameBudget bounds the bytes a [Server] holds for frames that
// are still arriving, on all its connections together (default 64 MiB, or
// four frame limits if more). A connection whose frame needs more waits
// until others finish theirs (within the frame timeout, [WithFrameTimeout]),
// so many peers that each send most of a large frame and stall cannot hold
// more than this. Frames that fit the connection's 4 KiB read buffer are
// not counted. A negative value means no limit.
func WithPartialFrameBudget(bytes int64) ServerOption {
	return serverOption(func(o *options) { o.partialBudget = bytes })
}

// WithIdentity tells a [Server] which server id it serves, and which run of
// it (the incarnation cluster membership announced; empty when there is
// none). A connection whose first frame names another id or incarnation
// (see [MemberResolver]) is refused before any of its calls is read, and
// its calls fail with Unavailable matching [runtime.ErrNotDelivered]. A
// server without an identity accepts every connection.
func WithIdentity(serverID, incarnation string) ServerOption {
	return serverOption(func(o *options) { o.serverID, o.incarnation = serverID, incarnation })
}

// WithIdleTimeout sets how long a [Server] keeps a connection that has no
// call in flight and sends nothing (default 5 minutes; zero disables it).
// Such a connection is closed with a go-away frame, which tells the
// [Transport] that no call it sent since was or will be served, so that it
// sends those calls again on a fresh connection: closing an idle connection
// never fails a call. A Transport ignores this option.
func WithIdleTimeout(d time.Duration) ServerOption {
	return serverOption(func(o *options) { o.idleTimeout = d })
}

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
func WithFrameTimeout(d time.Duration) ServerOption {
	return serverOption(func(o *options) { o.ioTimeout = d })
}

// WithLogger sets where connection-level events go: protocol violations,
// failed handshakes, accept errors. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option { return bothOption(func(o *options) { o.logger = l }) }

// WithBackoff sets how a [Transport] holds off dialling an address after a
// dial failed: min after the first failure, doubling up to max, back to none
// after a successful dial. Calls during the hold-off fail with Unavailable at
// once. The default is 10ms to 1s; WithBackoff(0, 0) dials on every call.
func WithBackoff(min, max time.Duration) TransportOption {
	return transportOption(func(o *options) { o.backoffMin, o.backoffMax = min, max })
}
