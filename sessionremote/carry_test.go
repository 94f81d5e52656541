package sessionremote_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/internal/roomhandler"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

const roomID = "room-1"

// Create builds a backend session from a snapshot, as pomelo's create(opts):
// the same as one from Get, calling the frontend the snapshot names.
func TestCreate(t *testing.T) {
	c := newCluster(t, session.WithIncarnation("run-1"))
	ctx := bg(t)
	s := c.store.Create(&conn{})
	if err := s.Set("gold", 1<<53+1); err != nil {
		t.Fatal(err)
	}
	info := s.Export()

	created, err := c.svc.Create(info)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.Export(), created.Export()); diff != "" {
		t.Fatalf("Create and Get differ (-Get +Create):\n%s", diff)
	}
	if created.Ref() != got.Ref() {
		t.Fatalf("refs differ: %+v, %+v", created.Ref(), got.Ref())
	}

	// The snapshot does not alias what it was made from.
	info.Settings["gold"] = json.RawMessage(`0`)
	var gold int64
	if _, err := created.Get("gold", &gold); err != nil || gold != 1<<53+1 {
		t.Fatalf("gold = %d, %v after changing the info Create was given", gold, err)
	}

	// It reaches the real session, and names its run.
	if err := created.Bind(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := created.Set("room", 7); err != nil {
		t.Fatal(err)
	}
	if err := created.Push(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	var room int
	if ok, _ := s.Get("room", &room); !ok || room != 7 || s.UID() != "alice" {
		t.Fatalf("session after Bind and Push through a created snapshot: uid %q, room %d", s.UID(), room)
	}
	other := info
	other.Incarnation = "run-0"
	stale, err := c.svc.Create(other)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, stale.Unbind(ctx, "alice"), sessionremote.ErrSessionNotFound, runtime.NotFound)
}

// Missing or invalid info is InvalidArgument, as pomelo throws.
func TestCreateInvalid(t *testing.T) {
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(runtime.NewInProc()))
	for name, info := range map[string]session.Info{
		"no frontend": {ID: 1},
		"zero sid":    {FrontendID: fid},
		"zero value":  {},
	} {
		_, err := svc.Create(info)
		if !errors.Is(err, sessionremote.ErrInvalidSession) || runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("%s: Create = %v, want ErrInvalidSession (InvalidArgument)", name, err)
		}
	}
	_, err := svc.Create(session.Info{FrontendID: fid, ID: 1, Settings: session.Settings{"k": json.RawMessage(`{`)}})
	wantErr(t, err, sessionremote.ErrInvalidSetting, runtime.InvalidArgument)
}

// pair is a frontend and a backend on one network: the frontend serves
// sys.sessionRemote over its store, the backend the room handlers, and each
// calls the other by id.
type pair struct {
	store    *session.Store
	rooms    *roomhandler.RoomHandlerClient // the frontend's client of the backend
	gets     atomic.Int64                   // getBackendSessionBySid calls the frontend served
	frontend *runtime.Server
	backend  *runtime.Server
}

// pairNetworks are the networks a pair can be built on: every transport.
var pairNetworks = []string{"inproc", "tcp", "nats"}

// newPair builds a pair on network whose backend trusts trust.
func newPair(t *testing.T, network string, trust ...sessionremote.InterceptorOption) *pair {
	t.Helper()
	p := &pair{store: session.NewStore(fid, session.WithIncarnation("run-1"))}
	p.frontend = runtime.NewServer(runtime.WithInterceptors(p.countGets))
	sessionremote.RegisterSessionRemoteServer(p.frontend, sessionremote.NewFrontend(p.store))
	var frontTr, backTr runtime.Transport
	switch network {
	case "inproc":
		n := runtime.NewInProc()
		frontTr, backTr = n, n
		p.backend = newBackend(n, trust)
		for id, srv := range map[string]*runtime.Server{fid: p.frontend, roomID: p.backend} {
			served, err := n.Serve(id, srv)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { served.Close() })
		}
	case "tcp":
		res := tcp.NewStaticResolver(nil)
		tr := tcp.NewTransport(res)
		t.Cleanup(func() { tr.Close() })
		frontTr, backTr = tr, tr
		p.backend = newBackend(tr, trust)
		for id, srv := range map[string]*runtime.Server{fid: p.frontend, roomID: p.backend} {
			res.Set(id, serveTCP(t, srv))
		}
	case "nats":
		ns, err := natsembed.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ns.Shutdown)
		fnc, bnc := natsConn(t, ns.URL()), natsConn(t, ns.URL())
		frontTr, backTr = natsrpc.NewTransport(fnc), natsrpc.NewTransport(bnc)
		p.backend = newBackend(backTr, trust)
		for nc, pair := range map[string]struct {
			id  string
			srv *runtime.Server
		}{"f": {fid, p.frontend}, "b": {roomID, p.backend}} {
			conn := fnc
			if nc == "b" {
				conn = bnc
			}
			served, err := natsrpc.Serve(conn, pair.id, pair.srv)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { served.Close() })
		}
	default:
		t.Fatalf("unknown network %q", network)
	}
	p.rooms = roomhandler.NewRoomHandlerClient(runtime.NewClient(frontTr))
	return p
}

// newBackend is a room server whose sessions call frontends through tr.
func newBackend(tr runtime.Transport, trust []sessionremote.InterceptorOption) *runtime.Server {
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(tr))
	srv := runtime.NewServer(runtime.WithInterceptors(svc.Interceptor(trust...)))
	roomhandler.RegisterRoomHandlerServer(srv, &roomhandler.Server{ID: roomID})
	return srv
}

func serveTCP(t *testing.T, srv *runtime.Server, opts ...tcp.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := tcp.NewServer(srv, opts...)
	go ts.Serve(ln)
	t.Cleanup(func() { ts.Close() })
	return ln.Addr().String()
}

func natsConn(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := natsrpc.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (p *pair) countGets(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
	if info.Server && info.Route == sessionremote.SessionRemoteGetBackendSessionBySidRoute {
		p.gets.Add(1)
	}
	return next(ctx, args, result)
}

// A frontend's call on a client's behalf carries the client's session, and
// the backend's handler acts through it: on every transport, without a round
// trip back for a session that travels inline, with one for a larger one.
func TestSessionTravelsWithACall(t *testing.T) {
	for _, network := range pairNetworks {
		t.Run(network, func(t *testing.T) {
			p := newPair(t, network, sessionremote.TrustAll())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := p.store.Create(&conn{})
			if err := s.Set("level", 12); err != nil {
				t.Fatal(err)
			}

			// The handler sees the session as the frontend has it.
			got, err := p.rooms.Whoami(sessionremote.WithSession(ctx, s), roomID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.Export(), got); diff != "" {
				t.Fatalf("the handler's session (-frontend +handler):\n%s", diff)
			}

			// It binds and pushes through it.
			reply, err := p.rooms.Join(sessionremote.WithSession(ctx, s), roomID, roomhandler.JoinRequest{UID: "alice", Room: 7})
			if err != nil {
				t.Fatal(err)
			}
			want := roomhandler.JoinReply{Server: roomID, Frontend: fid, SID: s.ID(), UID: "alice", Room: 7}
			if reply != want {
				t.Fatalf("Join = %+v, want %+v", reply, want)
			}
			var room int
			if ok, _ := s.Get("room", &room); !ok || room != 7 || s.UID() != "alice" {
				t.Fatalf("the frontend's session after Join: uid %q, room %d", s.UID(), room)
			}
			if n := p.gets.Load(); n != 0 {
				t.Fatalf("the backend fetched an inline session %d times", n)
			}

			// A session over the inline limit travels as a reference,
			// fetched once.
			if err := s.Set("inventory", strings.Repeat("x", sessionremote.InlineSessionLimit)); err != nil {
				t.Fatal(err)
			}
			got, err = p.rooms.Whoami(sessionremote.WithSession(ctx, s), roomID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.Export(), got); diff != "" {
				t.Fatalf("the handler's large session (-frontend +handler):\n%s", diff)
			}
			if n := p.gets.Load(); n != 1 {
				t.Fatalf("the backend fetched a large session %d times, want 1", n)
			}
		})
	}
}

// The inline form stays within the limit, so that metadata keeps room for
// trace context beside it: the largest session that travels inline, and the
// smallest that does not.
func TestInlineLimit(t *testing.T) {
	st := session.NewStore(fid, session.WithIncarnation(strings.Repeat("f", 32)))
	s := st.Create(nil)
	if err := s.Bind(strings.Repeat("u", 64)); err != nil {
		t.Fatal(err)
	}
	pad := sessionremote.InlineSessionLimit - s.Export().EncodedSize() - len(`,"settings":{"p":""}`)
	if err := s.Set("p", strings.Repeat("x", pad)); err != nil {
		t.Fatal(err)
	}
	md := func() string { return mdOf(t, sessionremote.WithSession(context.Background(), s)) }
	inline := md()
	if len(inline) != sessionremote.InlineSessionLimit || !strings.HasPrefix(inline, `{"id":`) {
		t.Fatalf("a session of exactly the limit travels as %d bytes: %.60s…", len(inline), inline)
	}
	if err := s.Set("p", strings.Repeat("x", pad+1)); err != nil {
		t.Fatal(err)
	}
	ref := md()
	if !strings.HasPrefix(ref, `{"ref":`) || len(ref) > 200 {
		t.Fatalf("a session one byte over the limit travels as %q", ref)
	}
}

// Within one handler, every FromContext returns the same snapshot; a call
// without a session, or a server without the interceptor, has none.
func TestFromContext(t *testing.T) {
	c := newCluster(t)
	s := c.store.Create(nil)
	ic := c.svc.Interceptor(sessionremote.TrustAll())
	ctx := sessionremote.WithSession(context.Background(), s)
	md := runtime.Metadata{sessionremote.MetadataSession: mdOf(t, ctx)}
	serverCtx := incoming(md)
	var first, second *sessionremote.BackendSession
	err := ic(serverCtx, runtime.CallInfo{Server: true}, nil, nil, func(ctx context.Context, _, _ any) error {
		var err error
		if first, err = sessionremote.FromContext(ctx); err != nil {
			return err
		}
		second, err = sessionremote.FromContext(ctx)
		return err
	})
	if err != nil || first == nil || first != second {
		t.Fatalf("FromContext twice: %p, %p, %v", first, second, err)
	}

	if _, err := sessionremote.FromContext(serverCtx); !errors.Is(err, sessionremote.ErrNoSession) {
		t.Errorf("FromContext without the interceptor: %v, want ErrNoSession", err)
	}
	err = ic(incoming(nil), runtime.CallInfo{Server: true}, nil, nil, func(ctx context.Context, _, _ any) error {
		_, err := sessionremote.FromContext(ctx)
		return err
	})
	wantErr(t, err, sessionremote.ErrNoSession, runtime.FailedPrecondition)
}

// mdOf returns the session metadata WithSession put on ctx, as a server
// sees it.
func mdOf(t *testing.T, ctx context.Context) string {
	t.Helper()
	var seen string
	n := runtime.NewInProc()
	srv := runtime.NewServer(runtime.WithInterceptors(func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		seen = runtime.MetadataFromContext(ctx)[sessionremote.MetadataSession]
		return nil
	}))
	roomhandler.RegisterRoomHandlerServer(srv, &roomhandler.Server{})
	served, err := n.Serve(roomID, srv)
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	if _, err := roomhandler.NewRoomHandlerClient(runtime.NewClient(n)).Whoami(ctx, roomID); err != nil {
		t.Fatal(err)
	}
	return seen
}

// incoming returns a context as a handler's, carrying md from its caller:
// through a server, which is the only way to make one.
func incoming(md runtime.Metadata) context.Context {
	n := runtime.NewInProc()
	got := make(chan context.Context, 1)
	srv := runtime.NewServer(runtime.WithInterceptors(func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		got <- context.WithoutCancel(ctx)
		return nil
	}))
	roomhandler.RegisterRoomHandlerServer(srv, &roomhandler.Server{})
	served, _ := n.Serve(roomID, srv)
	defer served.Close()
	ctx := context.Background()
	if md != nil {
		ctx = runtime.WithMetadata(ctx, md)
	}
	_, _ = roomhandler.NewRoomHandlerClient(runtime.NewClient(n)).Whoami(ctx, roomID)
	return <-got
}

// A backend honours a session only from callers it trusts as frontends:
// by default nobody; from anyone else a forged uid is ignored.
func TestSessionFromUntrustedCallerIgnored(t *testing.T) {
	forged := func(ctx context.Context) context.Context {
		return runtime.WithMetadata(ctx, runtime.Metadata{
			sessionremote.MetadataSession: `{"id":1,"frontendId":"connector-1","incarnation":"run-1","uid":"admin"}`,
		})
	}
	t.Run("default", func(t *testing.T) {
		p := newPair(t, "inproc")
		s := p.store.Create(nil)
		_, err := p.rooms.Whoami(sessionremote.WithSession(bg(t), s), roomID)
		wantErr(t, err, sessionremote.ErrNoSession, runtime.FailedPrecondition)
	})
	t.Run("identities in-process", func(t *testing.T) {
		// In-process the transport authenticates nobody: an allow-list
		// of identities trusts no one.
		p := newPair(t, "inproc", sessionremote.TrustIdentities(fid))
		p.store.Create(nil)
		_, err := p.rooms.Join(forged(bg(t)), roomID, roomhandler.JoinRequest{UID: "admin"})
		wantErr(t, err, sessionremote.ErrNoSession, runtime.FailedPrecondition)
	})
	t.Run("mutual TLS", func(t *testing.T) {
		ctx := bg(t)
		ca := newTestCA(t)
		store := session.NewStore(fid, session.WithIncarnation("run-1"))
		victim := store.Create(nil)
		frontend := runtime.NewServer()
		sessionremote.RegisterSessionRemoteServer(frontend, sessionremote.NewFrontend(store))
		res := tcp.NewStaticResolver(map[string]string{fid: serveTCP(t, frontend)})
		backTr := tcp.NewTransport(res)
		t.Cleanup(func() { backTr.Close() })
		backend := newBackend(backTr, []sessionremote.InterceptorOption{sessionremote.TrustIdentities(fid)})
		backAddr := serveTCP(t, backend, tcp.WithTLS(ca.serverConfig()))
		rooms := func(cn string) *roomhandler.RoomHandlerClient {
			tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{roomID: backAddr}), tcp.WithTLS(ca.clientConfig(cn)))
			t.Cleanup(func() { tr.Close() })
			return roomhandler.NewRoomHandlerClient(runtime.NewClient(tr))
		}

		// The trusted frontend's session is honoured.
		got, err := rooms(fid).Whoami(sessionremote.WithSession(ctx, victim), roomID)
		if err != nil || got.ID != victim.ID() {
			t.Fatalf("Whoami from the trusted frontend: %+v, %v", got, err)
		}
		// Another certificate's forged uid is not.
		_, err = rooms("mallory").Join(forged(ctx), roomID, roomhandler.JoinRequest{UID: "admin", Room: 1})
		wantErr(t, err, sessionremote.ErrNoSession, runtime.FailedPrecondition)
		if victim.UID() != "" {
			t.Fatalf("a forged session bound the frontend's session to %q", victim.UID())
		}
	})
}

// A trusted caller's session that does not decode is InvalidArgument.
func TestMalformedSessionMetadata(t *testing.T) {
	p := newPair(t, "inproc", sessionremote.TrustAll())
	for name, v := range map[string]string{
		"not JSON":      `{"id":`,
		"no frontend":   `{"id":3}`,
		"empty ref":     `{"ref":{}}`,
		"wrong type":    `{"id":"three","frontendId":"connector-1"}`,
		"bad settings":  `{"id":3,"frontendId":"connector-1","settings":7}`,
		"no session id": `{"frontendId":"connector-1"}`,
	} {
		ctx := runtime.WithMetadata(bg(t), runtime.Metadata{sessionremote.MetadataSession: v})
		_, err := p.rooms.Whoami(ctx, roomID)
		if runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

// testCA is a certificate authority made for one test.
type testCA struct {
	t      *testing.T
	ca     *x509.Certificate
	key    *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
	serial int64
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sessionremote test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCA{t: t, ca: ca, key: key, pool: x509.NewCertPool(), serial: 1}
	c.pool.AddCert(ca)
	c.server = c.issue("127.0.0.1", x509.ExtKeyUsageServerAuth)
	return c
}

func (c *testCA) issue(cn string, usage x509.ExtKeyUsage) tls.Certificate {
	c.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	c.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.key)
	if err != nil {
		c.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (c *testCA) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.server}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: c.pool, MinVersion: tls.VersionTLS13}
}

func (c *testCA) clientConfig(cn string) *tls.Config {
	return &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS13,
		Certificates: []tls.Certificate{c.issue(cn, x509.ExtKeyUsageClientAuth)}}
}
