package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// wait bounds every wait for something that must happen: generous, for a
// loaded machine; the tests assert their own time bounds where they claim
// one.
const wait = 30 * time.Second

func startNATS(t testing.TB, opts ...natsembed.Option) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect connects to url, closing the connection when the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := natsrpc.Connect(url, append([]nats.Option{nats.ReconnectWait(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

var prefixes atomic.Int64

// env is one test's cluster: a NATS URL and a subject prefix of its own.
type env struct {
	t      testing.TB
	url    string
	prefix string
	bound  time.Duration
}

func newEnv(t testing.TB, url string) *env {
	return &env{t: t, url: url, prefix: fmt.Sprintf("test%d.cluster", prefixes.Add(1)), bound: cluster.DefaultLeaveBound}
}

func (e *env) opts() []cluster.Option {
	return []cluster.Option{cluster.WithSubjectPrefix(e.prefix), cluster.WithLogger(quiet), cluster.WithLeaveBound(e.bound)}
}

func (e *env) joinOpts(extra ...cluster.JoinOption) []cluster.JoinOption {
	var out []cluster.JoinOption
	for _, o := range e.opts() {
		out = append(out, o)
	}
	return append(out, extra...)
}

func (e *env) viewOpts(extra ...cluster.ViewOption) []cluster.ViewOption {
	var out []cluster.ViewOption
	for _, o := range e.opts() {
		out = append(out, o)
	}
	return append(out, extra...)
}

// join joins info on a connection of its own, as a server process would.
func (e *env) join(info cluster.Info, opts ...cluster.JoinOption) (*cluster.Registration, *nats.Conn) {
	e.t.Helper()
	nc := connect(e.t, e.url)
	return e.joinOn(nc, info, opts...), nc
}

func (e *env) joinOn(nc *nats.Conn, info cluster.Info, opts ...cluster.JoinOption) *cluster.Registration {
	e.t.Helper()
	r, err := cluster.Join(ctxFor(e.t, wait), nc, info, e.joinOpts(opts...)...)
	if err != nil {
		e.t.Fatalf("join %s: %v", info.ID, err)
	}
	e.t.Cleanup(r.Close)
	return r
}

// view starts a view on a connection of its own.
func (e *env) view(opts ...cluster.ViewOption) *cluster.View {
	e.t.Helper()
	return e.viewOn(connect(e.t, e.url), opts...)
}

func (e *env) viewOn(nc *nats.Conn, opts ...cluster.ViewOption) *cluster.View {
	e.t.Helper()
	v, err := cluster.NewView(ctxFor(e.t, wait), nc, e.viewOpts(opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(v.Close)
	return v
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// events records a view's events as they arrive.
type events struct {
	mu   sync.Mutex
	all  []cluster.Event
	at   []time.Time
	more chan struct{}
}

func watch(t testing.TB, v *cluster.View, filters ...cluster.Filter) *events {
	ctx, cancel := context.WithCancel(context.Background())
	ch := v.Watch(ctx, filters...)
	ev := &events{more: make(chan struct{}, 1)}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for e := range ch {
			ev.mu.Lock()
			ev.all = append(ev.all, e)
			ev.at = append(ev.at, time.Now())
			ev.mu.Unlock()
			select {
			case ev.more <- struct{}{}:
			default:
			}
		}
	}()
	return ev
}

// next waits for the first event from index from on that f accepts, and
// returns it, its index and when it arrived.
func (ev *events) next(t testing.TB, from int, what string, f func(cluster.Event) bool) (cluster.Event, int, time.Time) {
	t.Helper()
	deadline := time.After(wait)
	for {
		ev.mu.Lock()
		for i := from; i < len(ev.all); i++ {
			if f(ev.all[i]) {
				e, at := ev.all[i], ev.at[i]
				ev.mu.Unlock()
				return e, i, at
			}
		}
		ev.mu.Unlock()
		select {
		case <-ev.more:
		case <-deadline:
			t.Fatalf("no %s within %v; events: %v", what, wait, ev.snapshot())
		}
	}
}

func (ev *events) snapshot() []cluster.Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return append([]cluster.Event(nil), ev.all...)
}

func (ev *events) len() int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return len(ev.all)
}

func is(typ cluster.EventType, id string) func(cluster.Event) bool {
	return func(e cluster.Event) bool { return e.Type == typ && e.Member.ID == id }
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > wait {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func ids(ms []cluster.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func ctxWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
