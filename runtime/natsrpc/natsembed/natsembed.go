// Package natsembed runs NATS servers inside the process, on loopback: for
// tests, demos and single-machine setups of natsrpc. It is a package of its
// own so that programs that connect to an external NATS do not link the NATS
// server. [WithJetStream] turns JetStream on, with a temporary store, for
// what needs streams or key-value buckets.
//
//	srv, err := natsembed.Start()
//	...
//	defer srv.Shutdown()
//	nc, err := nats.Connect(srv.URL())
package natsembed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Option configures a server before it starts. Any func(*server.Options)
// is an Option, for settings this package has no helper for (accounts,
// JWT authentication, TLS details).
type Option func(*server.Options)

// WithPort sets the client port; the default is a random free one.
func WithPort(port int) Option { return func(o *server.Options) { o.Port = port } }

// WithHost sets the address to listen on; the default is 127.0.0.1.
func WithHost(host string) Option { return func(o *server.Options) { o.Host = host } }

// WithMaxPayload sets the largest message the server accepts, in bytes (the
// NATS default is 1 MiB).
func WithMaxPayload(n int32) Option { return func(o *server.Options) { o.MaxPayload = n } }

// WithLogging turns the server's log on, to stderr; it is off by default.
func WithLogging() Option { return func(o *server.Options) { o.NoLog = false } }

// WithUserPassword makes the server accept only clients that connect with
// this user and password (nats.UserInfo, or a URL like
// nats://user:password@host:port). Every such client may publish and
// subscribe to anything; see [WithUsers] for users with permissions.
func WithUserPassword(user, password string) Option {
	return func(o *server.Options) { o.Username, o.Password = user, password }
}

// WithToken makes the server accept only clients that connect with this
// token (nats.Token).
func WithToken(token string) Option {
	return func(o *server.Options) { o.Authorization = token }
}

// WithUsers makes the server accept only these users, each with the
// permissions of its Permissions field. It is the
// "authorization { users = [...] }" block of a nats-server configuration
// file. nil Permissions, or a nil Publish or Subscribe, allow everything;
// for a user that may publish only answers (allow_responses), set Response
// and a Publish whose Allow is empty but not nil. With users, the server
// ignores [WithUserPassword] and [WithToken].
func WithUsers(users ...*server.User) Option {
	return func(o *server.Options) { o.Users = append(o.Users, users...) }
}

// WithTLS makes the server require TLS with cfg, which must hold the
// server's certificate. When cfg.ClientAuth is
// tls.RequireAndVerifyClientCert, clients must also present a certificate
// that cfg.ClientCAs trusts. [Server.URL] then starts with tls://.
func WithTLS(cfg *tls.Config) Option {
	return func(o *server.Options) {
		o.TLSConfig = cfg
		o.TLSVerify = cfg != nil && cfg.ClientAuth == tls.RequireAndVerifyClientCert
	}
}

// WithJetStream turns JetStream on. Streams and key-value buckets may use
// memory or file storage; file storage lives in a temporary directory of its
// own per server, removed by [Server.Shutdown], unless an Option sets
// server.Options.StoreDir to a lasting one. In a cluster ([StartCluster])
// every server runs JetStream and StartCluster returns once they have a
// meta leader that has heard from every one, so that replicated streams
// can be created at once.
func WithJetStream() Option { return func(o *server.Options) { o.JetStream = true } }

// startTimeout bounds how long a server may take to accept connections, and
// a cluster to connect its routes.
const startTimeout = 10 * time.Second

// Server is one running NATS server.
type Server struct {
	ns      *server.Server
	tempDir string // JetStream's store, made by start; removed by Shutdown
}

// Start starts a NATS server on 127.0.0.1 at a random port, without
// logging, and returns once it accepts connections.
func Start(opts ...Option) (*Server, error) {
	o := &server.Options{
		Host:   "127.0.0.1",
		Port:   server.RANDOM_PORT,
		NoLog:  true,
		NoSigs: true,
	}
	for _, opt := range opts {
		opt(o)
	}
	return start(o)
}

func start(o *server.Options) (*Server, error) {
	var tempDir string
	if o.JetStream && o.StoreDir == "" {
		// Without a store directory every server of the process would
		// share one under os.TempDir, and a cluster's would collide.
		dir, err := os.MkdirTemp("", "natsembed-jetstream-")
		if err != nil {
			return nil, fmt.Errorf("natsembed: JetStream store: %w", err)
		}
		tempDir, o.StoreDir = dir, dir
	}
	fail := func(err error) (*Server, error) {
		if tempDir != "" {
			os.RemoveAll(tempDir)
		}
		return nil, err
	}
	ns, err := server.NewServer(o)
	if err != nil {
		return fail(fmt.Errorf("natsembed: %w", err))
	}
	if !o.NoLog {
		ns.ConfigureLogger()
	}
	ns.Start()
	if !ns.ReadyForConnections(startTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fail(fmt.Errorf("natsembed: server not ready after %v", startTimeout))
	}
	return &Server{ns: ns, tempDir: tempDir}, nil
}

// URL returns the URL clients connect to, e.g. "nats://127.0.0.1:41234",
// or "tls://127.0.0.1:41234" with [WithTLS]. It holds no credentials.
func (s *Server) URL() string { return s.ns.ClientURL() }

// NATS returns the server itself, for what this package does not wrap.
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server, closing every client connection, and returns
// once it has stopped. Clients with other URLs reconnect to them. A
// JetStream store in a temporary directory is removed.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	if s.tempDir != "" {
		os.RemoveAll(s.tempDir)
	}
}

// StartCluster starts n servers clustered on loopback, each at random client
// and route ports, and returns once every server has a route to every other.
// opts apply to every server, after the cluster settings. On error, the
// servers already started are shut down.
func StartCluster(n int, opts ...Option) ([]*Server, error) {
	if n < 1 {
		return nil, errors.New("natsembed: a cluster needs at least one server")
	}
	var nodes []*Server
	fail := func(err error) ([]*Server, error) {
		for _, s := range nodes {
			s.Shutdown()
		}
		return nil, err
	}
	var seed *url.URL
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("natsembed-%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "natsembed",
				Host: "127.0.0.1",
				Port: server.RANDOM_PORT,
			},
		}
		// Every server routes to the first; the first tells each about
		// the others, and they connect in a full mesh.
		if seed != nil {
			o.Routes = []*url.URL{seed}
		} else if wantsJetStream(opts) {
			// A clustered JetStream refuses to start without a
			// configured route, so the first server routes to itself
			// (nats-server ignores a route to itself), on a port
			// chosen before it starts.
			port, err := freePort()
			if err != nil {
				return fail(err)
			}
			o.Cluster.Port = port
			seed = &url.URL{Scheme: "nats-route", Host: net.JoinHostPort(o.Cluster.Host, strconv.Itoa(port))}
			o.Routes = []*url.URL{seed}
		}
		for _, opt := range opts {
			opt(o)
		}
		s, err := start(o)
		if err != nil {
			return fail(err)
		}
		nodes = append(nodes, s)
		if seed == nil {
			addr := s.ns.ClusterAddr()
			if addr == nil {
				return fail(errors.New("natsembed: first server has no route listener"))
			}
			seed = &url.URL{Scheme: "nats-route", Host: addr.String()}
		}
	}
	deadline := time.Now().Add(startTimeout)
	for _, s := range nodes {
		for s.ns.NumRemotes() < n-1 {
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("natsembed: %s has %d of %d routes after %v", s.ns.Name(), s.ns.NumRemotes(), n-1, startTimeout))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if nodes[0].ns.JetStreamEnabled() {
		// A clustered JetStream takes requests once its servers agree on
		// a meta leader, are current with it, and the leader has heard
		// from every one (a replicated stream is placed only on servers
		// it has heard from); before, creating a stream fails or hangs.
		deadline = time.Now().Add(startTimeout)
		for !jetStreamReady(nodes) {
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("natsembed: JetStream cluster not ready after %v", startTimeout))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nodes, nil
}

// wantsJetStream reports whether opts turn JetStream on.
func wantsJetStream(opts []Option) bool {
	o := &server.Options{}
	for _, opt := range opts {
		opt(o)
	}
	return o.JetStream
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("natsembed: route port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// jetStreamReady reports whether every server of a clustered JetStream is
// current with its meta leader, and the leader sees every server.
func jetStreamReady(nodes []*Server) bool {
	leaderSeesAll := false
	for _, s := range nodes {
		if !s.ns.JetStreamIsCurrent() {
			return false
		}
		if s.ns.JetStreamIsLeader() && len(s.ns.JetStreamClusterPeers()) == len(nodes) {
			leaderSeesAll = true
		}
	}
	return leaderSeesAll
}

// URLs returns the client URLs of servers, comma-separated, as nats.Connect
// takes them: a client given them all reconnects to another when its
// server goes.
func URLs(servers []*Server) string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}
