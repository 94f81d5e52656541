package presence_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// wait bounds every wait for something that must happen: generous, for a
// loaded machine. Tests that claim a tighter bound assert it themselves.
const wait = 30 * time.Second

// leaveBound is membership's leave bound in these tests: short, so that a
// killed frontend leaves the views soon.
const leaveBound = time.Second

var envs atomic.Int64

// env is one test's cluster on one NATS server: prefixes and a bucket of
// its own, so that tests never hear each other.
type env struct {
	t       *testing.T
	url     string
	cluster []cluster.Option
	opts    []presence.Option
	bucket  string
}

func newEnv(t *testing.T, jetStream bool) *env {
	t.Helper()
	var opts []natsembed.Option
	if jetStream {
		opts = append(opts, natsembed.WithJetStream())
	}
	ns, err := natsembed.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	n := envs.Add(1)
	e := &env{t: t, url: ns.URL(), bucket: fmt.Sprintf("presence_test_%d", n)}
	e.cluster = []cluster.Option{cluster.WithSubjectPrefix(fmt.Sprintf("ptest%d.cluster", n)),
		cluster.WithLeaveBound(leaveBound), cluster.WithLogger(quiet)}
	e.opts = []presence.Option{presence.WithSubjectPrefix(fmt.Sprintf("ptest%d.presence", n)),
		presence.WithBucket(e.bucket), presence.WithLogger(quiet)}
	return e
}

func (e *env) connect() *nats.Conn {
	e.t.Helper()
	nc, err := natsrpc.Connect(e.url, nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(nc.Close)
	return nc
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// frontend is one frontend server: its store, presence, sys.sessionRemote
// and sys.presence served on NATS, and its membership.
type frontend struct {
	id     string
	inc    string
	nc     *nats.Conn
	store  *session.Store
	fe     *presence.Frontend
	reg    *cluster.Registration
	served *natsrpc.Server
}

// frontendOpts turns env's options into frontend options, with extra.
func (e *env) frontendOpts(extra ...presence.FrontendOption) []presence.FrontendOption {
	var out []presence.FrontendOption
	for _, o := range e.opts {
		out = append(out, o)
	}
	return append(out, extra...)
}

func (e *env) directoryOpts(extra ...presence.DirectoryOption) []presence.DirectoryOption {
	var out []presence.DirectoryOption
	for _, o := range e.opts {
		out = append(out, o)
	}
	return append(out, extra...)
}

func (e *env) subscribeOpts(extra ...presence.SubscribeOption) []presence.SubscribeOption {
	var out []presence.SubscribeOption
	for _, o := range e.opts {
		out = append(out, o)
	}
	return append(out, extra...)
}

// startFrontend starts frontend id, serving impl (nil: its presence.Frontend)
// as sys.presence.
func (e *env) startFrontend(id string, impl presence.PresenceRemote, opts ...presence.FrontendOption) *frontend {
	e.t.Helper()
	ctx := ctxFor(e.t, wait)
	f := &frontend{id: id, inc: cluster.NewIncarnation(), nc: e.connect()}
	f.store = session.NewStore(id, session.WithIncarnation(f.inc))
	fe, err := presence.NewFrontend(ctx, f.nc, f.store, e.frontendOpts(opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(fe.Close)
	f.fe = fe
	if impl == nil {
		impl = fe
	}
	srv := runtime.NewServer(runtime.WithLogger(quiet))
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(f.store))
	presence.RegisterPresenceRemoteServer(srv, impl)
	if f.served, err = natsrpc.Serve(f.nc, id, srv); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.served.Close() })
	var jopts []cluster.JoinOption
	for _, o := range e.cluster {
		jopts = append(jopts, o)
	}
	jopts = append(jopts, cluster.WithIncarnation(f.inc))
	if f.reg, err = cluster.Join(ctx, f.nc, cluster.Info{ID: id, Type: "connector", Frontend: true}, jopts...); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(f.reg.Close)
	return f
}

// kill ends the frontend as a process that dies does: its connection drops,
// with no goodbye.
func (f *frontend) kill() {
	f.nc.Close()
	f.fe.Close()
}

// login makes a session for a client on f and binds it to uid.
func (f *frontend) login(t *testing.T, uid string) (*session.Session, *clientConn) {
	t.Helper()
	c := &clientConn{}
	s := f.store.Create(c)
	if err := s.Bind(uid); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (f *frontend) sync(t *testing.T) {
	t.Helper()
	if err := f.fe.Sync(ctxFor(t, wait)); err != nil {
		t.Fatalf("sync %s: %v", f.id, err)
	}
}

// backend is a backend server's view of the cluster and its directory.
type backend struct {
	nc   *nats.Conn
	view *cluster.View
	dir  *presence.Directory
}

func (e *env) startBackend(opts ...presence.DirectoryOption) *backend {
	e.t.Helper()
	ctx := ctxFor(e.t, wait)
	b := &backend{nc: e.connect()}
	var vopts []cluster.ViewOption
	for _, o := range e.cluster {
		vopts = append(vopts, o)
	}
	view, err := cluster.NewView(ctx, b.nc, vopts...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(view.Close)
	b.view = view
	client := runtime.NewClient(natsrpc.NewTransport(b.nc), runtime.WithDefaultTimeout(wait))
	if b.dir, err = presence.NewDirectory(ctx, b.nc, view, client, e.directoryOpts(opts...)...); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(b.dir.Close)
	return b
}

// sees waits until the view lists every frontend given, each as its run.
func (b *backend) sees(t *testing.T, fs ...*frontend) {
	t.Helper()
	eventually(t, wait, "the view lists the frontends", func() bool {
		for _, f := range fs {
			if _, ok := b.view.Lookup(f.id, f.inc); !ok {
				return false
			}
		}
		return true
	})
}

// eventually polls cond until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kv opens the test's index bucket directly, to check what is in it.
func (e *env) kv(nc *nats.Conn) jetstream.KeyValue {
	e.t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		e.t.Fatal(err)
	}
	kv, err := js.KeyValue(ctxFor(e.t, wait), e.bucket)
	if err != nil {
		e.t.Fatal(err)
	}
	return kv
}

// keys returns the keys in the index bucket.
func (e *env) keys(nc *nats.Conn) []string {
	e.t.Helper()
	keys, err := e.kv(nc).Keys(ctxFor(e.t, wait))
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// clientConn is a client's connection as its frontend holds it.
type clientConn struct {
	mu     sync.Mutex
	kicks  []string
	closed bool
	pushes []string
}

func (c *clientConn) Kick(reason string) {
	c.mu.Lock()
	c.kicks = append(c.kicks, reason)
	c.mu.Unlock()
}
func (c *clientConn) Close() { c.mu.Lock(); c.closed = true; c.mu.Unlock() }
func (c *clientConn) Send(route string, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("client gone")
	}
	c.pushes = append(c.pushes, route+" "+string(msg))
	return nil
}

func (c *clientConn) got() (kicks, pushes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.kicks...), append([]string(nil), c.pushes...)
}
