package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// cluster is every server of one demo run, in one process but wired as
// separate processes would be: frontends and backends share nothing but the
// transport, each has its own NATS connection or TCP endpoint.
type cluster struct {
	cfg     Config
	log     *slog.Logger
	nats    *natsembed.Server // the embedded NATS; nil for tcp or an external NATS
	natsURL string            // empty for tcp

	frontends []*frontend
	backends  []*backend
}

// frontend is one connector server: a session store holding its simulated
// client connections, whose sys.sessionRemote a runtime.Server of its own
// serves over the transport.
type frontend struct {
	index int
	id    string
	store *session.Store
	rpc   *runtime.Server

	nc     *nats.Conn      // nats: the frontend's own connection
	ns     *natsrpc.Server // nats
	ts     *tcp.Server     // tcp
	addr   string          // tcp: where ts listens
	served chan error      // tcp: what ts.Serve returned

	// Counts of the store's hooks, compared at the end with the models.
	binds, unbinds, closes atomic.Int64

	mu    sync.Mutex
	conns map[session.ID]*clientConn // every connection ever made, by its session's id
}

// backend is one backend server: it reaches the frontends only through its
// own transport.
type backend struct {
	id  string
	svc *sessionremote.BackendSessionService

	nc  *nats.Conn         // nats: the backend's own connection
	ntr *natsrpc.Transport // nats
	ttr *tcp.Transport     // tcp
}

// startCluster starts NATS if needed, then the frontends, then the backends.
// On error it stops whatever it had started.
func startCluster(cfg Config) (_ *cluster, err error) {
	c := &cluster{cfg: cfg, log: cfg.Logger}
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			_ = c.stop(ctx)
		}
	}()
	if cfg.Transport == "nats" {
		c.natsURL = cfg.NATSURL
		if c.natsURL == "" {
			if c.nats, err = natsembed.Start(); err != nil {
				return nil, err
			}
			c.natsURL = c.nats.URL()
		}
	}
	for i := range cfg.Frontends {
		f, err := c.startFrontend(i)
		if err != nil {
			return nil, err
		}
		c.frontends = append(c.frontends, f)
	}
	addrs := make(map[string]string, len(c.frontends))
	for _, f := range c.frontends {
		addrs[f.id] = f.addr
	}
	for i := range cfg.Backends {
		b, err := c.startBackend(i, addrs)
		if err != nil {
			return nil, err
		}
		c.backends = append(c.backends, b)
	}
	return c, nil
}

func (c *cluster) startFrontend(i int) (*frontend, error) {
	f := &frontend{
		index: i,
		id:    fmt.Sprintf("connector-%d", i+1),
		rpc:   runtime.NewServer(runtime.WithLogger(c.log)),
		conns: make(map[session.ID]*clientConn),
	}
	f.store = session.NewStore(f.id)
	f.store.OnBind(func(*session.Session, string) { f.binds.Add(1) })
	f.store.OnUnbind(func(*session.Session, string) { f.unbinds.Add(1) })
	f.store.OnClosed(func(*session.Session, string) { f.closes.Add(1) })
	var impl sessionremote.SessionRemote = sessionremote.NewFrontend(f.store)
	if c.cfg.wrapFrontend != nil {
		impl = c.cfg.wrapFrontend(f.id, f.store, impl)
	}
	sessionremote.RegisterSessionRemoteServer(f.rpc, impl)

	switch c.cfg.Transport {
	case "nats":
		nc, err := natsrpc.Connect(c.natsURL, nats.Name("clusterdemo "+f.id))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.id, err)
		}
		ns, err := natsrpc.Serve(nc, f.id, f.rpc, natsrpc.WithLogger(c.log))
		if err != nil {
			nc.Close()
			return nil, err
		}
		f.nc, f.ns = nc, ns
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.id, err)
		}
		f.ts = tcp.NewServer(f.rpc, tcp.WithLogger(c.log))
		f.addr = ln.Addr().String()
		f.served = make(chan error, 1)
		go func() { f.served <- f.ts.Serve(ln) }()
	}
	return f, nil
}

func (c *cluster) startBackend(i int, addrs map[string]string) (*backend, error) {
	b := &backend{id: fmt.Sprintf("backend-%d", i+1)}
	var tr runtime.Transport
	switch c.cfg.Transport {
	case "nats":
		nc, err := natsrpc.Connect(c.natsURL, nats.Name("clusterdemo "+b.id))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.id, err)
		}
		b.nc, b.ntr = nc, natsrpc.NewTransport(nc, natsrpc.WithLogger(c.log))
		tr = b.ntr
	case "tcp":
		b.ttr = tcp.NewTransport(tcp.NewStaticResolver(addrs), tcp.WithLogger(c.log))
		tr = b.ttr
	}
	b.svc = sessionremote.NewBackendSessionService(runtime.NewClient(tr))
	return b, nil
}

// connectClients connects cfg.Clients simulated clients to every frontend
// and hands each to a worker, in turn, so that every worker owns a disjoint
// share of the sessions.
func (c *cluster) connectClients(workers []*worker) {
	n := 0
	for _, f := range c.frontends {
		for range c.cfg.Clients {
			f.connect(workers[n%len(workers)].inbox)
			n++
		}
	}
}

// stop shuts the cluster down gracefully: backends first, so that no call is
// in flight, then frontends, then NATS. It returns every error it met.
func (c *cluster) stop(ctx context.Context) error {
	var errs []error
	for _, b := range c.backends {
		if b.ntr != nil {
			b.ntr.Close()
		}
		if b.nc != nil {
			b.nc.Close()
		}
		if b.ttr != nil {
			if err := b.ttr.Close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", b.id, err))
			}
		}
	}
	for _, f := range c.frontends {
		if err := f.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.id, err))
		}
	}
	if c.nats != nil {
		c.nats.Shutdown()
	}
	return errors.Join(errs...)
}

func (f *frontend) stop(ctx context.Context) error {
	var errs []error
	if f.ns != nil {
		errs = append(errs, f.ns.Shutdown(ctx))
	}
	if f.ts != nil {
		errs = append(errs, f.ts.Shutdown(ctx))
		if err := <-f.served; !errors.Is(err, tcp.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	// The transport's Shutdown drained every call of the frontend's
	// server: there is nothing left for the server's own Shutdown to wait
	// for.
	if f.nc != nil {
		f.nc.Close()
	}
	return errors.Join(errs...)
}

// connect simulates a client connecting to the frontend: a session with a
// connection of its own. The new session's id goes to owner, the mailbox of
// the worker that drives this client: in a real cluster the client's
// requests would carry it to the backend.
func (f *frontend) connect(owner *mailbox) {
	c := &clientConn{frontend: f, owner: owner}
	s := f.store.Create(c)
	f.mu.Lock()
	f.conns[s.ID()] = c
	f.mu.Unlock()
	owner.post(arrival{frontend: f.index, sid: s.ID()})
}

// conn returns the connection of session sid, or nil.
func (f *frontend) conn(sid session.ID) *clientConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[sid]
}

// connCount returns how many connections the frontend has ever had.
func (f *frontend) connCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// clientConn is a simulated client connection, the [session.Conn] the store
// kicks and closes. It records what it is told, and once closed its client
// connects again at once, as a game client does after a kick.
type clientConn struct {
	frontend *frontend
	owner    *mailbox

	mu     sync.Mutex
	events []string // "kick:<reason>" and "close", in the order they came
}

// Kick implements [session.Conn].
func (c *clientConn) Kick(reason string) {
	c.mu.Lock()
	c.events = append(c.events, "kick:"+reason)
	c.mu.Unlock()
}

// Close implements [session.Conn].
func (c *clientConn) Close() {
	c.mu.Lock()
	c.events = append(c.events, "close")
	c.mu.Unlock()
	c.frontend.connect(c.owner)
}

// Send implements [session.Conn]. The simulated clients read no pushes yet:
// a message is taken and dropped.
func (c *clientConn) Send(route string, msg []byte) error { return nil }

// seen returns a copy of what the connection has been told.
func (c *clientConn) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// mailbox carries new sessions from the frontends' simulated clients to the
// worker that drives them.
type mailbox struct {
	mu sync.Mutex
	q  []arrival
}

// arrival is a session a client has just opened.
type arrival struct {
	frontend int // index in cluster.frontends
	sid      session.ID
}

func (m *mailbox) post(a arrival) {
	m.mu.Lock()
	m.q = append(m.q, a)
	m.mu.Unlock()
}

func (m *mailbox) drain() []arrival {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.q
	m.q = nil
	return q
}
