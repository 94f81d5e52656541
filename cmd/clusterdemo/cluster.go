package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	membership "github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/internal/roomhandler"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// cluster is every server of one demo run, in one process but wired as
// separate processes would be: frontends and backends share nothing but
// NATS and the transport; each has its own NATS connection, finds the others
// through membership (package cluster) and, over TCP, dials the addresses
// membership announces.
type cluster struct {
	cfg     Config
	log     *slog.Logger
	obs     *observability    // -trace and -metrics
	nats    *natsembed.Server // the embedded NATS; nil for an external NATS
	natsURL string

	mu        sync.Mutex  // guards frontends and gone while faults change them
	frontends []*frontend // by index; a restarted frontend replaces its old run here
	gone      []*frontend // killed runs, stopped with the rest
	backends  []*backend
}

// frontendType and backendType are the server types the demo's servers
// announce in membership.
const (
	frontendType = "connector"
	backendType  = "room" // the first segment of the room handler's routes
)

// frontend is one run of a connector server: a session store holding its
// simulated client connections, whose sys.sessionRemote a runtime.Server of
// its own serves over the transport, and its membership.
type frontend struct {
	index       int
	id          string
	incarnation string
	store       *session.Store
	rpc         *runtime.Server

	nc       *nats.Conn               // its own connection: membership, and calls over nats
	reg      *membership.Registration // its membership
	view     *membership.View         // who else is up: the room servers it forwards to
	router   *membership.Router       // calls by server type, for its clients' messages
	closeTr  func()                   // closes the transport the router calls through
	presence *presence.Frontend       // keeps the uid index and sends session events
	ns       *natsrpc.Server          // nats
	ts       *tcp.Server              // tcp
	served   chan error               // tcp: what ts.Serve returned
	shared   session.ID               // a session no client owns, which every worker updates
	killed   atomic.Bool              // its process was killed

	// Counts of the store's hooks, compared at the end with the models.
	binds, unbinds, closes atomic.Int64

	mu    sync.Mutex
	conns map[session.ID]*clientConn // every connection ever made, by its session's id
}

// backend is one backend server: it finds the frontends through its view of
// membership and reaches them only through its own transport.
type backend struct {
	id   string
	svc  *sessionremote.BackendSessionService
	view *membership.View
	reg  *membership.Registration
	dir  *presence.Directory // where users are, and calls on every frontend
	rpc  *runtime.Server     // serves the room handler to the frontends' clients
	ns   *natsrpc.Server     // nats
	ts   *tcp.Server         // tcp
	done chan error          // tcp: what ts.Serve returned

	nc  *nats.Conn         // its own connection: membership, and calls over nats
	ntr *natsrpc.Transport // nats
	ttr *tcp.Transport     // tcp: addresses from the view
}

// startCluster starts NATS if needed, then the frontends, then the backends,
// and waits until every backend's view lists every frontend. On error it
// stops whatever it had started.
func startCluster(ctx context.Context, cfg Config, obs *observability) (_ *cluster, err error) {
	c := &cluster{cfg: cfg, log: cfg.Logger, obs: obs}
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			_ = c.stop(ctx)
		}
	}()
	c.natsURL = cfg.NATSURL
	if c.natsURL == "" {
		// JetStream for the uid index (presence); membership and calls
		// need only core NATS.
		if c.nats, err = natsembed.Start(natsembed.WithJetStream()); err != nil {
			return nil, err
		}
		c.natsURL = c.nats.URL()
	}
	for i := range cfg.Frontends {
		f, err := c.startFrontend(ctx, i)
		if err != nil {
			return nil, err
		}
		c.frontends = append(c.frontends, f)
	}
	for i := range cfg.Backends {
		b, err := c.startBackend(ctx, i)
		if err != nil {
			return nil, err
		}
		c.backends = append(c.backends, b)
	}
	for _, b := range c.backends {
		if err := b.waitFor(ctx, c.frontends); err != nil {
			return nil, err
		}
	}
	for _, f := range c.frontends {
		if err := f.waitForRooms(ctx, len(c.backends)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// startFrontend starts a run of frontend i: a fresh store and incarnation,
// served over the transport and announced in membership.
func (c *cluster) startFrontend(ctx context.Context, i int) (*frontend, error) {
	f := &frontend{
		index:       i,
		id:          fmt.Sprintf("connector-%d", i+1),
		incarnation: membership.NewIncarnation(),
		conns:       make(map[session.ID]*clientConn),
	}
	f.rpc = runtime.NewServer(append(c.obs.serverOptions(f.id), runtime.WithLogger(c.log))...)
	f.store = session.NewStore(f.id, append(c.obs.storeOptions(f.id), session.WithIncarnation(f.incarnation))...)
	f.store.OnBind(func(*session.Session, string) { f.binds.Add(1) })
	f.store.OnUnbind(func(*session.Session, string) { f.unbinds.Add(1) })
	f.store.OnClosed(func(*session.Session, string) { f.closes.Add(1) })
	f.shared = f.store.Create(nil).ID()
	var impl sessionremote.SessionRemote = sessionremote.NewFrontend(f.store)
	if c.cfg.wrapFrontend != nil {
		impl = c.cfg.wrapFrontend(f.id, f.store, impl)
	}
	sessionremote.RegisterSessionRemoteServer(f.rpc, impl)

	nc, err := natsrpc.Connect(c.natsURL, nats.Name("clusterdemo "+f.id))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.id, err)
	}
	f.nc = nc
	// Where its users are (the uid index, on JetStream when NATS has it)
	// and what happens to their sessions (events), for the backends.
	if f.presence, err = presence.NewFrontend(ctx, nc, f.store, presence.WithLogger(c.log)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: presence: %w", f.id, err)
	}
	presence.RegisterPresenceRemoteServer(f.rpc, f.presence)
	// Its clients' messages go to the room servers, found by type.
	if f.view, err = membership.NewView(ctx, nc, membership.WithLogger(c.log)); err != nil {
		f.presence.Close()
		nc.Close()
		return nil, fmt.Errorf("%s: %w", f.id, err)
	}
	f.router, f.closeTr = c.router(f.id, nc, f.view)
	info := membership.Info{ID: f.id, Type: frontendType, Frontend: true, Routes: f.rpc.Routes()}
	switch c.cfg.Transport {
	case "nats":
		if f.ns, err = natsrpc.Serve(nc, f.id, f.rpc, natsrpc.WithLogger(c.log)); err != nil {
			nc.Close()
			return nil, err
		}
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("%s: %w", f.id, err)
		}
		// The server knows which run it is, so that a call meant for an
		// earlier run (whose port it may have taken) is refused.
		f.ts = tcp.NewServer(f.rpc, tcp.WithLogger(c.log), tcp.WithIdentity(f.id, f.incarnation))
		f.served = make(chan error, 1)
		go func() { f.served <- f.ts.Serve(ln) }()
		info.Addr = ln.Addr().String()
	}
	if f.reg, err = membership.Join(ctx, nc, info, membership.WithIncarnation(f.incarnation), membership.WithLogger(c.log)); err != nil {
		f.stop(ctx)
		return nil, fmt.Errorf("%s: join: %w", f.id, err)
	}
	return f, nil
}

// startBackend starts backend i: its view of membership, its membership,
// and its transport, which finds frontends through the view.
func (c *cluster) startBackend(ctx context.Context, i int) (*backend, error) {
	b := &backend{id: fmt.Sprintf("backend-%d", i+1)}
	nc, err := natsrpc.Connect(c.natsURL, nats.Name("clusterdemo "+b.id))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.id, err)
	}
	b.nc = nc
	if b.view, err = membership.NewView(ctx, nc, membership.WithLogger(c.log)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", b.id, err)
	}
	var tr runtime.Transport
	switch c.cfg.Transport {
	case "nats":
		b.ntr = natsrpc.NewTransport(nc, natsrpc.WithLogger(c.log))
		tr = b.ntr
	case "tcp":
		b.ttr = tcp.NewTransport(b.view, tcp.WithLogger(c.log)) // no address map: membership
		tr = b.ttr
	}
	client := runtime.NewClient(tr, c.obs.clientOptions(b.id)...)
	b.svc = sessionremote.NewBackendSessionService(client)
	if b.dir, err = presence.NewDirectory(ctx, nc, b.view, client, presence.WithLogger(c.log)); err != nil {
		return nil, fmt.Errorf("%s: presence: %w", b.id, err)
	}

	// The room handler, which frontends forward their clients' messages
	// to: a handler gets the client's session from its context, trusted
	// because every caller here is a frontend of the demo's (in a
	// deployment: sessionremote.TrustIdentities with mTLS, or NATS
	// permissions on who may publish to a backend).
	opts := append(c.obs.serverOptions(b.id), runtime.WithLogger(c.log),
		runtime.WithInterceptors(b.svc.Interceptor(sessionremote.TrustAll())))
	b.rpc = runtime.NewServer(opts...)
	roomhandler.RegisterRoomHandlerServer(b.rpc, &roomhandler.Server{ID: b.id})
	inc := membership.NewIncarnation()
	info := membership.Info{ID: b.id, Type: backendType, Routes: b.rpc.Routes()}
	switch c.cfg.Transport {
	case "nats":
		if b.ns, err = natsrpc.Serve(nc, b.id, b.rpc, natsrpc.WithLogger(c.log)); err != nil {
			return nil, fmt.Errorf("%s: %w", b.id, err)
		}
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.id, err)
		}
		b.ts = tcp.NewServer(b.rpc, tcp.WithLogger(c.log), tcp.WithIdentity(b.id, inc))
		b.done = make(chan error, 1)
		go func() { b.done <- b.ts.Serve(ln) }()
		info.Addr = ln.Addr().String()
	}
	if b.reg, err = membership.Join(ctx, nc, info, membership.WithIncarnation(inc), membership.WithLogger(c.log)); err != nil {
		return nil, fmt.Errorf("%s: join: %w", b.id, err)
	}
	return b, nil
}

// router returns a server's calls by type over the run's transport, and
// what closes that transport.
func (c *cluster) router(id string, nc *nats.Conn, view *membership.View) (*membership.Router, func()) {
	var tr runtime.Transport
	var closeTr func()
	switch c.cfg.Transport {
	case "nats":
		t := natsrpc.NewTransport(nc, natsrpc.WithLogger(c.log))
		tr, closeTr = t, t.Close
	case "tcp":
		t := tcp.NewTransport(view, tcp.WithLogger(c.log))
		tr, closeTr = t, func() { t.Close() }
	}
	return membership.NewRouter(view, runtime.NewClient(tr, c.obs.clientOptions(id)...)), closeTr
}

// startTimeout bounds how long the cluster may take to see itself whole.
const startTimeout = 20 * time.Second

// waitFor waits until b's view lists every run of fs.
func (b *backend) waitFor(ctx context.Context, fs []*frontend) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		missing := ""
		for _, f := range fs {
			if _, ok := b.view.Lookup(f.id, f.incarnation); !ok {
				missing = f.id
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not see %s in membership after %v", b.id, missing, startTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitForRooms waits until f's view lists n room servers.
func (f *frontend) waitForRooms(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for len(f.view.Members(membership.OfType(backendType))) < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s sees %d room servers after %v, want %d", f.id,
				len(f.view.Members(membership.OfType(backendType))), startTimeout, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// frontendIDs returns the ids of the frontends as membership lists them,
// in index order: the workers know the cluster from there, not from a list
// of their own.
func (b *backend) frontendIDs() []string {
	members := b.view.Members(membership.OfType(frontendType))
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	slices.SortFunc(ids, func(a, b string) int {
		var x, y int
		fmt.Sscanf(a, "connector-%d", &x)
		fmt.Sscanf(b, "connector-%d", &y)
		return x - y
	})
	return ids
}

// connectClients connects cfg.Clients simulated clients to every frontend
// and hands each to a worker, in turn, so that every worker owns a disjoint
// share of the sessions. owners gives the workers of each frontend.
func (c *cluster) connectClients(owners func(fe int) []*mailbox) {
	for _, f := range c.frontends {
		c.connectClientsOf(f, owners(f.index))
	}
}

// connectClientsOf connects cfg.Clients clients to f, their sessions owned
// by the mailboxes in turn.
func (c *cluster) connectClientsOf(f *frontend, owners []*mailbox) {
	for i := range c.cfg.Clients {
		f.connect(owners[i%len(owners)])
	}
}

// stop shuts the cluster down gracefully: backends first, so that no call is
// in flight, then frontends, then NATS. It returns every error it met.
func (c *cluster) stop(ctx context.Context) error {
	var errs []error
	for _, b := range c.backends {
		if b.reg != nil {
			if err := b.reg.Leave(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: leave: %w", b.id, err))
			}
			b.reg = nil
		}
		if b.ns != nil {
			errs = append(errs, b.ns.Shutdown(ctx))
		}
		if b.ts != nil {
			errs = append(errs, b.ts.Shutdown(ctx))
			if err := <-b.done; !errors.Is(err, tcp.ErrServerClosed) {
				errs = append(errs, fmt.Errorf("%s: serve: %w", b.id, err))
			}
		}
		if b.dir != nil {
			b.dir.Close()
		}
		if b.ntr != nil {
			b.ntr.Close()
		}
		if b.ttr != nil {
			if err := b.ttr.Close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", b.id, err))
			}
		}
		if b.reg != nil {
			if err := b.reg.Leave(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: leave: %w", b.id, err))
			}
		}
		if b.view != nil {
			b.view.Close()
		}
		b.nc.Close()
	}
	for _, f := range c.frontends {
		if err := f.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.id, err))
		}
	}
	for _, f := range c.gone {
		f.stop(ctx) // killed: whatever is left of it
	}
	if c.nats != nil {
		c.nats.Shutdown()
	}
	return errors.Join(errs...)
}

// stop stops a frontend run gracefully: it leaves membership, then drains
// its transport.
func (f *frontend) stop(ctx context.Context) error {
	if f.killed.Load() {
		// What a dead process would not leave behind: its server's
		// goroutines.
		f.closeExtras()
		if f.ns != nil {
			f.ns.Close()
		}
		if f.ts != nil {
			f.ts.Close()
			<-f.served
		}
		return nil
	}
	var errs []error
	if f.reg != nil {
		if err := f.reg.Leave(ctx); err != nil {
			errs = append(errs, fmt.Errorf("leave: %w", err))
		}
	}
	f.closeExtras()
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

// closeExtras closes what a frontend run has beside its server: presence,
// its view and the transport its router calls through.
func (f *frontend) closeExtras() {
	if f.closeTr != nil {
		f.closeTr()
	}
	if f.view != nil {
		f.view.Close()
	}
	if f.presence != nil {
		f.presence.Close()
	}
}

// kill stops the frontend's process as a crash would: its NATS connection
// and its listener go at once, with no goodbye to membership and no answer
// to the calls in flight.
func (f *frontend) kill() {
	f.killed.Store(true)
	f.nc.Close() // membership's heartbeats and, over nats, its subscription
	if f.ts != nil {
		f.ts.Close() // its connections are reset
	}
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
	owner.post(arrival{frontend: f.index, sid: s.ID(), run: f.incarnation})
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
	run      string // the frontend's incarnation
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
