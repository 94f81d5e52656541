package tcp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// pki is a certificate authority made for one test, with the server
// certificate it issued for 127.0.0.1.
type pki struct {
	t      *testing.T
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sessionrpc test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{t: t, ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue("127.0.0.1", x509.ExtKeyUsageServerAuth)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var serial atomic.Int64

// issue returns a certificate for cn signed by the CA.
func (p *pki) issue(cn string, usage x509.ExtKeyUsage) tls.Certificate {
	p.t.Helper()
	key := newKey(p.t)
	n := serial.Add(1) + 100
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(n),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serverConfig requires and verifies client certificates of this CA.
func (p *pki) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
		MinVersion:   tls.VersionTLS13,
	}
}

// clientConfig trusts this CA and presents a client certificate for cn; no
// certificate when cn is empty.
func (p *pki) clientConfig(cn string) *tls.Config {
	cfg := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS13}
	if cn != "" {
		cfg.Certificates = []tls.Certificate{p.issue(cn, x509.ExtKeyUsageClientAuth)}
	}
	return cfg
}

// service is what the tests call, in the shape rpcgen generates.
type service struct {
	started   chan struct{} // receives when a block call runs
	cancelled chan error    // receives a block call's ctx error
	calls     atomic.Int64  // calls that reached a handler
}

type (
	echoArgs   struct{ A0 string }
	echoResult struct{ R0 string }
	peerResult struct {
		R0 string // identity
		R1 bool   // TLS
		R2 string // address
	}
	sizeArgs     struct{ A0 int }
	settingsArgs struct{ A0 map[string]string }
	sizeResult   struct{ R0 []byte }
	noArgs       struct{}
)

const (
	routeEcho  = "test.svc.echo"
	routeBlock = "test.svc.block"
	routePeer  = "test.svc.peer"
	routeSize  = "test.svc.size"
	// routeSettings takes a map, the argument that costs a decoder most:
	// many tiny keys.
	routeSettings = "test.svc.settings"
)

func newService() *service {
	return &service{started: make(chan struct{}, 1000), cancelled: make(chan error, 1000)}
}

func (s *service) desc() *rt.ServiceDesc {
	return &rt.ServiceDesc{Name: "test.svc", Methods: []rt.MethodDesc{
		{Route: routeEcho, NewArgs: func() any { return new(echoArgs) }, NewResult: func() any { return new(echoResult) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.calls.Add(1)
				result.(*echoResult).R0 = args.(*echoArgs).A0
				return nil
			}},
		{Route: routeBlock, NewArgs: func() any { return new(noArgs) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.calls.Add(1)
				s.started <- struct{}{}
				<-ctx.Done()
				s.cancelled <- ctx.Err()
				return ctx.Err()
			}},
		{Route: routePeer, NewArgs: func() any { return new(noArgs) }, NewResult: func() any { return new(peerResult) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.calls.Add(1)
				p, ok := rt.PeerFromContext(ctx)
				if !ok {
					return rt.Errorf(rt.Internal, "no peer in the handler's context")
				}
				r := result.(*peerResult)
				r.R0, r.R1 = p.Identity, p.TLS != nil
				if p.Addr != nil {
					r.R2 = p.Addr.String()
				}
				return nil
			}},
		{Route: routeSettings, NewArgs: func() any { return new(settingsArgs) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.calls.Add(1)
				return nil
			}},
		{Route: routeSize, NewArgs: func() any { return new(sizeArgs) }, NewResult: func() any { return new(sizeResult) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.calls.Add(1)
				result.(*sizeResult).R0 = make([]byte, args.(*sizeArgs).A0)
				return nil
			}},
	}}
}

func (s *service) server() *rt.Server {
	srv := rt.NewServer(rt.WithLogger(quiet))
	srv.RegisterService(s.desc(), s)
	return srv
}

// fixture is a service served on loopback under server id "s", and a
// client for it.
type fixture struct {
	svc      *service
	rs       *rt.Server
	srv      *tcp.Server
	tr       *tcp.Transport
	client   *rt.Client
	addr     string
	ln       *countingListener
	served   chan struct{} // closed when Serve returned serveErr
	serveErr error
}

// start serves a fresh service on a loopback port with a Transport and a
// Client for it; everything stops at the end of the test.
func start(tb testing.TB, serverOpts []tcp.ServerOption, clientOpts []tcp.TransportOption) *fixture {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := serveOn(tb, ln, serverOpts)
	res := tcp.NewStaticResolver(map[string]string{"s": f.addr})
	f.tr = tcp.NewTransport(res, append([]tcp.TransportOption{tcp.WithLogger(quiet)}, clientOpts...)...)
	f.client = rt.NewClient(f.tr)
	tb.Cleanup(func() { f.tr.Close() })
	return f
}

// serveOn serves a fresh service on ln until the end of the test.
func serveOn(tb testing.TB, ln net.Listener, serverOpts []tcp.ServerOption) *fixture {
	f := &fixture{svc: newService(), addr: ln.Addr().String(), ln: &countingListener{Listener: ln}, served: make(chan struct{})}
	f.rs = f.svc.server()
	f.srv = tcp.NewServer(f.rs, append([]tcp.ServerOption{tcp.WithLogger(quiet)}, serverOpts...)...)
	go func() {
		f.serveErr = f.srv.Serve(f.ln)
		close(f.served)
	}()
	tb.Cleanup(func() {
		f.srv.Close()
		<-f.served
	})
	return f
}

// countingListener counts the connections it accepted.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, err error, want rt.Code) {
	t.Helper()
	if got := rt.CodeOf(err); got != want {
		t.Fatalf("err = %v (code %v), want code %v", err, got, want)
	}
}

// waitStarted waits for n block calls to run in the handler.
func (s *service) waitStarted(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.started:
		case <-time.After(5 * time.Second):
			t.Fatal("blocked calls never reached the handler")
		}
	}
}

// block starts n calls that block in the handler until ctx ends, and waits
// until they run. Their errors arrive on the returned channel.
func (f *fixture) block(t *testing.T, ctx context.Context, n int) <-chan error {
	t.Helper()
	errc := make(chan error, n)
	for range n {
		go func() { errc <- f.client.Invoke(ctx, "s", routeBlock, &noArgs{}, nil) }()
	}
	f.svc.waitStarted(t, n)
	return errc
}
