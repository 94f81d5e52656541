package cluster

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultSubjectPrefix is the first tokens of every subject membership uses
// unless [WithSubjectPrefix] says otherwise. It cannot collide with
// natsrpc's call subjects (<prefix>.<serverID>, two tokens): membership
// subjects have at least three.
const DefaultSubjectPrefix = "sessionrpc.cluster"

// DefaultLeaveBound is how long a member that died without a goodbye stays
// in views, at most, unless [WithLeaveBound] says otherwise.
const DefaultLeaveBound = 3 * time.Second

// MinLeaveBound is the shortest leave bound [WithLeaveBound] accepts: a
// member heartbeats every third of it, and shorter periods would mistake a
// busy machine for a dead one.
const MinLeaveBound = 300 * time.Millisecond

// JoinOption configures [Join].
type JoinOption interface{ applyJoin(*joinOptions) }

// ViewOption configures [NewView].
type ViewOption interface{ applyView(*viewOptions) }

// Option configures both [Join] and [NewView].
type Option interface {
	JoinOption
	ViewOption
}

type common struct {
	prefix string
	bound  time.Duration
	log    *slog.Logger
}

type joinOptions struct {
	common
	incarnation string    // WithIncarnation
	startedAt   time.Time // tests: a chosen start time
	noCheck     bool      // tests: skip the holder check, to race
}

type viewOptions struct {
	common
	types []string
}

type commonOption func(*common)

func (f commonOption) applyJoin(o *joinOptions) { f(&o.common) }
func (f commonOption) applyView(o *viewOptions) { f(&o.common) }

type joinOption func(*joinOptions)

func (f joinOption) applyJoin(o *joinOptions) { f(o) }

type viewOption func(*viewOptions)

func (f viewOption) applyView(o *viewOptions) { f(o) }

// WithSubjectPrefix sets the subject prefix: one or more dot-separated
// tokens. Members and views see each other only with the same prefix, so
// that several clusters can share one NATS. The default is
// [DefaultSubjectPrefix].
func WithSubjectPrefix(prefix string) Option {
	return commonOption(func(o *common) { o.prefix = prefix })
}

// WithLeaveBound sets the leave bound, [DefaultLeaveBound] by default and
// at least [MinLeaveBound]. For [Join] it is the member's: it heartbeats
// every third of it, and announces it, so that every view drops it within
// the bound of its last heartbeat. For [NewView] it bounds how long a
// member heard of only by heartbeat, its record not yet fetched, is kept,
// and sets how often the view checks: every twelfth of it.
func WithLeaveBound(d time.Duration) Option {
	return commonOption(func(o *common) { o.bound = d })
}

// WithLogger sets where membership logs what it cannot return to anyone,
// such as a malformed announcement. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return commonOption(func(o *common) { o.log = l })
}

// WithIncarnation makes [Join] announce inc, from [NewIncarnation], instead
// of making one: for a server that needs its incarnation before it joins,
// to give its TCP server, so that from the first call on it refuses calls
// meant for an earlier run on the same address. Use one incarnation per
// process start, never again. An invalid one fails Join with
// InvalidArgument.
func WithIncarnation(inc string) JoinOption {
	return joinOption(func(o *joinOptions) { o.incarnation = inc })
}

// WithTypes makes a view hold only members of these types. It then
// subscribes only to their announcements and heartbeats, so that a server
// that calls only rooms does not pay for hearing every connector.
func WithTypes(types ...string) ViewOption {
	return viewOption(func(o *viewOptions) { o.types = append(o.types, types...) })
}

func (c *common) finish() error {
	if c.prefix == "" {
		c.prefix = DefaultSubjectPrefix
	}
	if c.bound == 0 {
		c.bound = DefaultLeaveBound
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if err := checkPrefix(c.prefix); err != nil {
		return err
	}
	if c.bound < MinLeaveBound || c.bound > maxLeaveBound {
		return fmt.Errorf("leave bound %v out of range [%v, %v]", c.bound, MinLeaveBound, maxLeaveBound)
	}
	return nil
}

func newJoinOptions(opts []JoinOption) (joinOptions, error) {
	var o joinOptions
	for _, opt := range opts {
		opt.applyJoin(&o)
	}
	if o.incarnation != "" && !validIncarnation(o.incarnation) {
		return o, fmt.Errorf("invalid incarnation %q: want 32 lowercase hex digits, from NewIncarnation", o.incarnation)
	}
	return o, o.finish()
}

func newViewOptions(opts []ViewOption) (viewOptions, error) {
	var o viewOptions
	for _, opt := range opts {
		opt.applyView(&o)
	}
	if err := o.finish(); err != nil {
		return o, err
	}
	for _, t := range o.types {
		if !validToken(t) {
			return o, fmt.Errorf("invalid type %q: want one NATS subject token", t)
		}
	}
	return o, nil
}

// heartbeatEvery is how often a member with leave bound d heartbeats.
func heartbeatEvery(d time.Duration) time.Duration { return d / 3 }
