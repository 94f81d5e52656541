package tcp_test

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/rpctest"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

func TestConformance(t *testing.T) {
	rpctest.Run(t, func(t *testing.T) rpctest.Network { return newNetwork(t, nil, nil) })
}

func TestConformanceMutualTLS(t *testing.T) {
	pki := newPKI(t)
	rpctest.Run(t, func(t *testing.T) rpctest.Network {
		return newNetwork(t, pki.serverConfig(), pki.clientConfig("backend-1"))
	})
}

// network adapts a Transport and Servers on loopback to rpctest.Network.
// Each server id gets a port on 127.0.0.1 the first time it is served and
// the same port every time after, so that the resolver's entry stays valid
// across restarts, as a server restarted on its configured port would.
type network struct {
	t         *testing.T
	tr        *tcp.Transport
	res       *tcp.StaticResolver
	serverTLS *tls.Config

	mu    sync.Mutex
	addrs map[string]string
}

func newNetwork(t *testing.T, serverTLS, clientTLS *tls.Config) *network {
	n := &network{t: t, res: tcp.NewStaticResolver(nil), serverTLS: serverTLS, addrs: make(map[string]string)}
	opts := []tcp.TransportOption{tcp.WithLogger(quiet)}
	if clientTLS != nil {
		opts = append(opts, tcp.WithTLS(clientTLS))
	}
	n.tr = tcp.NewTransport(n.res, opts...)
	t.Cleanup(func() { n.tr.Close() })
	return n
}

func (n *network) Transport() runtime.Transport { return n.tr }
func (n *network) MaxPayload() int              { return runtime.DefaultMaxPayload }

func (n *network) Serve(id string, d *runtime.Server) (rpctest.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ln, err := listen(n.t, n.addrs[id])
	if err != nil {
		return nil, err
	}
	n.addrs[id] = ln.Addr().String()
	n.res.Set(id, ln.Addr().String())
	opts := []tcp.ServerOption{tcp.WithLogger(quiet)}
	if n.serverTLS != nil {
		opts = append(opts, tcp.WithTLS(n.serverTLS))
	}
	srv := tcp.NewServer(d, opts...)
	l := &listener{srv: srv, served: make(chan struct{})}
	go func() {
		srv.Serve(ln)
		close(l.served)
	}()
	return l, nil
}

// listen listens on addr, or on a fresh loopback port when addr is empty.
// Rebinding a port just released can fail for a moment; it retries.
func listen(t *testing.T, addr string) (net.Listener, error) {
	if addr == "" {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

type listener struct {
	srv    *tcp.Server
	served chan struct{} // closed when Serve returned
}

func (l *listener) Close() error {
	err := l.srv.Close()
	<-l.served
	return err
}

func (l *listener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	<-l.served
	return err
}
