package tcp_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// members is a MemberResolver over a map the test changes as it goes.
type members struct {
	mu sync.Mutex
	m  map[string][2]string // id → address, incarnation
}

func (r *members) set(id, addr, inc string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string][2]string)
	}
	r.m[id] = [2]string{addr, inc}
}

func (r *members) Resolve(ctx context.Context, id string) (string, error) {
	addr, _, err := r.ResolveMember(ctx, id)
	return addr, err
}

func (r *members) ResolveMember(_ context.Context, id string) (string, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	if !ok {
		return "", "", rt.Errorf(rt.Unavailable, "unknown %q", id)
	}
	return e[0], e[1], nil
}

// A connection names the server and the run of it that the resolver
// means; a server that is not that one refuses it before serving any call,
// and the call fails as not delivered. After a server dies, a process that
// takes its port never receives the calls meant for it.
func TestIdentityRefusesAnotherServer(t *testing.T) {
	res := &members{}
	tr := tcp.NewTransport(res, tcp.WithLogger(quiet), tcp.WithBackoff(0, 0))
	t.Cleanup(func() { tr.Close() })
	c := rt.NewClient(tr)
	ctx := ctxFor(t, 30*time.Second)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	first := serveOn(t, ln, []tcp.ServerOption{tcp.WithIdentity("s", "inc-1")})
	res.set("s", addr, "inc-1")
	if err := echo(ctx, c, "meant for inc-1"); err != nil {
		t.Fatalf("call to the right run: %v", err)
	}

	// s dies; another server takes its port before membership
	// has noticed.
	first.srv.Close()
	<-first.served
	ln2, err := listen(t, addr)
	if err != nil {
		t.Fatalf("cannot rebind %s: %v", addr, err)
	}
	other := serveOn(t, ln2, []tcp.ServerOption{tcp.WithIdentity("frontend-3", "inc-9")})
	// A call may still catch the old connection before the transport has
	// seen it close: that one fails Unavailable, maybe delivered. The
	// calls on new connections must be refused as not delivered.
	waitUntil(t, "the transport to dial the new server", func() bool {
		err := echo(ctx, c, "still meant for s")
		wantCode(t, err, rt.Unavailable)
		return errors.Is(err, rt.ErrNotDelivered)
	})
	for i := range 3 {
		err := echo(ctx, c, "still meant for s")
		wantCode(t, err, rt.Unavailable)
		if !errors.Is(err, rt.ErrNotDelivered) {
			t.Fatalf("call %d reaching another server: %v, want ErrNotDelivered", i, err)
		}
	}
	if n := other.svc.calls.Load(); n != 0 {
		t.Fatalf("the server that took the port served %d calls meant for another", n)
	}

	// s restarted elsewhere under a new incarnation: once the
	// resolver says so, calls reach it.
	again := start(t, []tcp.ServerOption{tcp.WithIdentity("s", "inc-2")}, nil)
	res.set("s", again.addr, "inc-2")
	if err := echo(ctx, c, "meant for inc-2"); err != nil {
		t.Fatalf("call to the new run: %v", err)
	}
	// The same id but the old incarnation at the new address is refused.
	res.set("s", again.addr, "inc-1")
	if err := echo(ctx, c, "stale"); !errors.Is(err, rt.ErrNotDelivered) {
		t.Fatalf("call naming a dead run: %v, want ErrNotDelivered", err)
	}
	if n := again.svc.calls.Load(); n != 1 {
		t.Fatalf("the new run served %d calls, want 1", n)
	}
}

// A server without an identity accepts any hello, and a server with one
// accepts connections that send none (a plain resolver's).
func TestIdentityOptional(t *testing.T) {
	ctx := ctxFor(t, 30*time.Second)
	anon := start(t, nil, nil)
	res := &members{}
	res.set("s", anon.addr, "inc-1")
	tr := tcp.NewTransport(res, tcp.WithLogger(quiet))
	t.Cleanup(func() { tr.Close() })
	if err := echo(ctx, rt.NewClient(tr), "x"); err != nil {
		t.Fatalf("hello to a server without identity: %v", err)
	}
	named := start(t, []tcp.ServerOption{tcp.WithIdentity("s", "inc-1")}, nil)
	if err := echo(ctx, named.client, "x"); err != nil {
		t.Fatalf("no hello to a server with an identity: %v", err)
	}
}
