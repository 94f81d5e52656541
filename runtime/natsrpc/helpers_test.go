package natsrpc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/rpctest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNATS starts an embedded NATS server for the test.
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
	nc, err := natsrpc.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

var prefixes atomic.Int64

// uniquePrefix returns a subject prefix no other test uses.
func uniquePrefix() string { return fmt.Sprintf("t%d", prefixes.Add(1)) }

// network is the rpctest adapter: servers on one connection, the
// transport on another, as in two processes.
type network struct {
	server *nats.Conn
	tr     *natsrpc.Transport
	opts   []natsrpc.Option
	sopts  []natsrpc.ServerOption // besides opts
}

// newNetwork returns a network whose transport and servers speak the wire
// versions up to transportWire and serverWire (0: the newest).
func newNetwork(t *testing.T, url string, transportWire, serverWire int) rpctest.Network {
	opts := []natsrpc.Option{
		natsrpc.WithSubjectPrefix(uniquePrefix()),
		natsrpc.WithMaxPayload(64 << 10),
		natsrpc.WithLogger(quiet),
	}
	n := &network{server: connect(t, url), opts: opts}
	topts := transportOpts(opts)
	if transportWire > 0 {
		topts = append(topts, natsrpc.WithBatches(transportWire != 1))
	}
	if serverWire > 0 {
		n.sopts = append(n.sopts, natsrpc.WithBatches(serverWire != 1))
	}
	n.tr = natsrpc.NewTransport(connect(t, url), topts...)
	t.Cleanup(n.tr.Close)
	return n
}

func (n *network) Transport() runtime.Transport { return n.tr }
func (n *network) MaxPayload() int              { return 64 << 10 }
func (n *network) Serve(id string, srv *runtime.Server) (rpctest.Listener, error) {
	return natsrpc.Serve(n.server, id, srv, append(serverOpts(n.opts), n.sopts...)...)
}

// serverOpts returns opts as server options.
func serverOpts(opts []natsrpc.Option) []natsrpc.ServerOption {
	out := make([]natsrpc.ServerOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// transportOpts returns opts as transport options.
func transportOpts(opts []natsrpc.Option) []natsrpc.TransportOption {
	out := make([]natsrpc.TransportOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// svc is the service the package's own tests call.
type svc struct {
	started chan struct{}  // receives when a Block call runs
	ended   chan error     // receives a Block call's ctx error
	release chan struct{}  // ends Block calls when closed
	running atomic.Int64   // Block calls running now
	maxSeen atomic.Int64   // most Block calls running at once
	mu      sync.Mutex     // guards applied
	applied map[string]int // Add calls applied, by key
}

func newSvc() *svc {
	return &svc{
		started: make(chan struct{}, 1024),
		ended:   make(chan error, 1024),
		release: make(chan struct{}),
		applied: make(map[string]int),
	}
}

const (
	routeEcho  = "t.svc.echo"
	routeBlock = "t.svc.block"
	routeBig   = "t.svc.big"
	routePeer  = "t.svc.peer"
	routeAdd   = "t.svc.add"
)

type (
	strArgs  struct{ A0 string }
	strRes   struct{ R0 string }
	intArgs  struct{ A0 int }
	peerRes  struct{ Network, Addr, Identity string }
	emptyArg struct{}
)

func newOf[T any]() func() any { return func() any { return new(T) } }

func (s *svc) desc() *runtime.ServiceDesc {
	return &runtime.ServiceDesc{Name: "t.svc", Methods: []runtime.MethodDesc{
		{Route: routeEcho, NewArgs: newOf[strArgs](), NewResult: newOf[strRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*strRes).R0 = args.(*strArgs).A0
				return nil
			}},
		{Route: routeBlock, NewArgs: newOf[emptyArg](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				n := s.running.Add(1)
				defer s.running.Add(-1)
				for m := s.maxSeen.Load(); n > m && !s.maxSeen.CompareAndSwap(m, n); m = s.maxSeen.Load() {
				}
				s.started <- struct{}{}
				select {
				case <-s.release:
					return nil
				case <-ctx.Done():
					s.ended <- ctx.Err()
					return ctx.Err()
				}
			}},
		{Route: routeBig, NewArgs: newOf[intArgs](), NewResult: newOf[strRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*strRes).R0 = strings.Repeat("x", args.(*intArgs).A0)
				return nil
			}},
		{Route: routePeer, NewArgs: newOf[emptyArg](), NewResult: newOf[peerRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				p, ok := runtime.PeerFromContext(ctx)
				if !ok {
					return runtime.Errorf(runtime.Internal, "no peer")
				}
				r := result.(*peerRes)
				if p.Addr != nil {
					r.Network, r.Addr = p.Addr.Network(), p.Addr.String()
				}
				r.Identity = p.Identity
				return nil
			}},
		{Route: routeAdd, NewArgs: newOf[strArgs](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.mu.Lock()
				s.applied[args.(*strArgs).A0]++
				s.mu.Unlock()
				return nil
			}},
	}}
}

// fixture is a server and a client of svc over one NATS.
type fixture struct {
	nats   *natsembed.Server
	svc    *svc
	server *natsrpc.Server
	snc    *nats.Conn
	cnc    *nats.Conn
	tr     *natsrpc.Transport
	client *runtime.Client
	id     string
	prefix string
	sopts  []natsrpc.ServerOption
	topts  []natsrpc.TransportOption
}

// newFixture serves svc with the server options among opts and calls it
// with the transport options among them (an Option is both).
func newFixture(t *testing.T, ns *natsembed.Server, opts ...any) *fixture {
	t.Helper()
	if ns == nil {
		ns = startNATS(t)
	}
	f := &fixture{nats: ns, svc: newSvc(), id: "srv-1", prefix: uniquePrefix()}
	for _, o := range append([]any{natsrpc.WithSubjectPrefix(f.prefix), natsrpc.WithLogger(quiet)}, opts...) {
		if so, ok := o.(natsrpc.ServerOption); ok {
			f.sopts = append(f.sopts, so)
		}
		if to, ok := o.(natsrpc.TransportOption); ok {
			f.topts = append(f.topts, to)
		}
	}
	f.snc = connect(t, ns.URL())
	f.cnc = connect(t, ns.URL())
	f.tr = natsrpc.NewTransport(f.cnc, f.topts...)
	t.Cleanup(f.tr.Close)
	f.client = runtime.NewClient(f.tr)
	f.server = f.serve(t, f.snc)
	return f
}

func (f *fixture) serve(t *testing.T, nc *nats.Conn) *natsrpc.Server {
	t.Helper()
	rs := runtime.NewServer(runtime.WithLogger(quiet))
	rs.RegisterService(f.svc.desc(), f.svc)
	s, err := natsrpc.Serve(nc, f.id, rs, f.sopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// blockCalls starts n Block calls and waits until their handlers run.
func (f *fixture) blockCalls(t *testing.T, ctx context.Context, n int) <-chan error {
	t.Helper()
	errc := make(chan error, n)
	for range n {
		go func() { errc <- f.client.Invoke(ctx, f.id, routeBlock, &emptyArg{}, nil) }()
	}
	for range n {
		select {
		case <-f.svc.started:
		case <-time.After(5 * time.Second):
			t.Fatal("Block calls never reached the handler")
		}
	}
	return errc
}

func wantCode(t *testing.T, err error, want runtime.Code) {
	t.Helper()
	if got := runtime.CodeOf(err); got != want {
		t.Fatalf("err = %v (code %v), want code %v", err, got, want)
	}
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// settleGoroutines waits until at most n goroutines run, failing after a
// few seconds with a dump of them.
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:goruntime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", goruntime.NumGoroutine(), n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
