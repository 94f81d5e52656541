package presence

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSubjectPrefix is the first tokens of the subjects session events
// are published on, unless [WithSubjectPrefix] says otherwise:
// <prefix>.<partition>.<frontend id>. It cannot collide with natsrpc's call
// subjects (two tokens) or cluster's membership subjects.
const DefaultSubjectPrefix = "sessionrpc.presence"

// DefaultBucket is the JetStream key-value bucket of the uid index unless
// [WithBucket] says otherwise.
const DefaultBucket = "sessionrpc_presence"

// FrontendOption configures [NewFrontend].
type FrontendOption interface{ applyFrontend(*options) }

// DirectoryOption configures [NewDirectory].
type DirectoryOption interface{ applyDirectory(*options) }

// SubscribeOption configures [Subscribe].
type SubscribeOption interface{ applySubscribe(*options) }

// Option configures [NewFrontend], [NewDirectory] and [Subscribe] alike:
// frontends and the backends that read what they publish must agree on it.
type Option interface {
	FrontendOption
	DirectoryOption
	SubscribeOption
}

// IndexOption configures the uid index, for [NewFrontend] and
// [NewDirectory] alike: whichever comes first creates the bucket.
type IndexOption interface {
	FrontendOption
	DirectoryOption
}

type options struct {
	prefix  string
	bucket  string
	log     *slog.Logger
	noIndex bool
	storage jetstream.StorageType
	replica int
	workers int    // frontend: index writers
	uid     string // subscribe: one uid's events
	oneUID  bool
	buffer  int // subscribe: events held for a slow reader
}

func newOptions() options {
	return options{prefix: DefaultSubjectPrefix, bucket: DefaultBucket, log: slog.Default(),
		storage: jetstream.FileStorage, replica: 1, workers: 4, buffer: 1024}
}

// check returns what is wrong with o, or nil.
func (o *options) check() error {
	for _, tok := range strings.Split(o.prefix, ".") {
		if !validToken(tok) {
			return fmt.Errorf("invalid subject prefix %q: want dot-separated tokens without spaces, '*' or '>'", o.prefix)
		}
	}
	if o.bucket == "" || strings.ContainsFunc(o.bucket, func(r rune) bool {
		return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return fmt.Errorf("invalid bucket name %q: want [-_a-zA-Z0-9]+", o.bucket)
	}
	return nil
}

// validToken reports whether s can be one token of a NATS subject.
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == 0x7f, c == '.', c == '*', c == '>':
			return false
		}
	}
	return true
}

type commonOption func(*options)

func (f commonOption) applyFrontend(o *options)  { f(o) }
func (f commonOption) applyDirectory(o *options) { f(o) }
func (f commonOption) applySubscribe(o *options) { f(o) }

type indexOption func(*options)

func (f indexOption) applyFrontend(o *options)  { f(o) }
func (f indexOption) applyDirectory(o *options) { f(o) }

type frontendOption func(*options)

func (f frontendOption) applyFrontend(o *options) { f(o) }

type subscribeOption func(*options)

func (f subscribeOption) applySubscribe(o *options) { f(o) }

// WithSubjectPrefix sets the prefix of the event subjects, one or more
// dot-separated tokens; [DefaultSubjectPrefix] by default. Frontends and
// subscribers see each other only with the same prefix.
func WithSubjectPrefix(prefix string) Option {
	return commonOption(func(o *options) { o.prefix = prefix })
}

// WithBucket sets the name of the uid index's key-value bucket;
// [DefaultBucket] by default. Several clusters on one NATS need one each.
func WithBucket(name string) Option {
	return commonOption(func(o *options) { o.bucket = name })
}

// WithLogger sets where the package logs what it cannot return to anyone,
// such as an index write that failed and will be tried again; the default
// is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return commonOption(func(o *options) { o.log = l })
}

// WithoutIndex runs without the uid index even where JetStream is
// available: frontends write none, and a directory's cluster-wide calls ask
// every frontend. All frontends and directories of a cluster must agree.
func WithoutIndex() IndexOption {
	return indexOption(func(o *options) { o.noIndex = true })
}

// WithIndexStorage sets where JetStream keeps the index bucket, if this
// process creates it: file storage by default, which outlives a restart of
// NATS; memory storage is faster, and loses the index with NATS (entries
// come back as users bind again).
func WithIndexStorage(st jetstream.StorageType) IndexOption {
	return indexOption(func(o *options) { o.storage = st })
}

// WithIndexReplicas sets how many JetStream servers keep the index bucket,
// if this process creates it; 1 by default, 3 in a NATS cluster that should
// keep the index through the loss of a server.
func WithIndexReplicas(n int) IndexOption {
	return indexOption(func(o *options) { o.replica = max(n, 1) })
}

// WithIndexWorkers sets how many goroutines of a frontend write the index, 4
// by default: each writes one uid at a time, one JetStream round trip each.
func WithIndexWorkers(n int) FrontendOption {
	return frontendOption(func(o *options) { o.workers = max(n, 1) })
}

// ForUID makes a subscription carry the events of uid's sessions only. It
// hears the partition of uid ([Partition]), 1/[Partitions] of all events,
// and drops the others.
func ForUID(uid string) SubscribeOption {
	return subscribeOption(func(o *options) { o.uid, o.oneUID = uid, true })
}

// WithBuffer sets how many events a subscription holds for a reader that
// is behind, 1024 by default; beyond, NATS holds them, and drops them when
// it holds too many, which the subscription reports as a [Gap].
func WithBuffer(n int) SubscribeOption {
	return subscribeOption(func(o *options) { o.buffer = max(n, 0) })
}
