package sessionremote_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// restartable serves one frontend id on a network, and can serve it again,
// as a frontend process that restarts does.
type restartable interface {
	serve(t *testing.T, srv *runtime.Server) (stop func())
	transport() runtime.Transport
}

type inprocNet struct{ n *runtime.InProc }

func (r inprocNet) transport() runtime.Transport { return r.n }
func (r inprocNet) serve(t *testing.T, srv *runtime.Server) func() {
	served, err := r.n.Serve(fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	return func() { served.Close() }
}

type tcpNet struct {
	res *tcp.StaticResolver
	tr  *tcp.Transport
}

func (r tcpNet) transport() runtime.Transport { return r.tr }
func (r tcpNet) serve(t *testing.T, srv *runtime.Server) func() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := tcp.NewServer(srv)
	go ts.Serve(ln)
	r.res.Set(fid, ln.Addr().String())
	return func() { ts.Close() }
}

type natsNet struct {
	tr  *natsrpc.Transport
	url string
}

func (r natsNet) transport() runtime.Transport { return r.tr }
func (r natsNet) serve(t *testing.T, srv *runtime.Server) func() {
	nc, err := natsrpc.Connect(r.url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := natsrpc.Serve(nc, fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	return func() { s.Close(); nc.Close() }
}

func restartableNetworks(t *testing.T) map[string]func(t *testing.T) restartable {
	return map[string]func(t *testing.T) restartable{
		"inproc": func(t *testing.T) restartable { return inprocNet{runtime.NewInProc()} },
		"tcp": func(t *testing.T) restartable {
			res := tcp.NewStaticResolver(nil)
			tr := tcp.NewTransport(res)
			t.Cleanup(func() { tr.Close() })
			return tcpNet{res, tr}
		},
		"nats": func(t *testing.T) restartable {
			ns, err := natsembed.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ns.Shutdown)
			nc, err := natsrpc.Connect(ns.URL())
			if err != nil {
				t.Fatal(err)
			}
			tr := natsrpc.NewTransport(nc)
			t.Cleanup(func() { tr.Close(); nc.Close() })
			return natsNet{tr, ns.URL()}
		},
	}
}

// frontendRun is one run of frontend fid: its store, served until stop.
func frontendRun(t *testing.T, n restartable, incarnation string) (*session.Store, func()) {
	store := session.NewStore(fid, session.WithIncarnation(incarnation))
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	return store, n.serve(t, srv)
}

// A session is addressed by frontend id, the frontend's incarnation and sid:
// after the frontend restarts, and hands out sid 1 again to someone else,
// nothing a backend kept from the old run reaches the new session.
func TestReferencesDoNotSurviveARestart(t *testing.T) {
	for name, newNet := range restartableNetworks(t) {
		t.Run(name, func(t *testing.T) {
			n := newNet(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			svc := sessionremote.NewBackendSessionService(runtime.NewClient(n.transport()))

			old, stop := frontendRun(t, n, "run-1")
			alice := old.Create(nil)
			if err := alice.Bind("alice"); err != nil {
				t.Fatal(err)
			}
			snap, err := svc.Get(ctx, fid, alice.ID())
			if err != nil {
				t.Fatal(err)
			}
			if snap.Incarnation() != "run-1" || snap.Export().Incarnation != "run-1" {
				t.Fatalf("snapshot of run-1 names run %q", snap.Incarnation())
			}
			ref := snap.Ref()

			// The frontend restarts; sid 1 is now bob's.
			stop()
			current, stop := frontendRun(t, n, "run-2")
			defer stop()
			bob := current.Create(nil)
			if bob.ID() != alice.ID() {
				t.Fatalf("the new run's first session is %d, want %d again", bob.ID(), alice.ID())
			}
			if err := bob.Bind("bob"); err != nil {
				t.Fatal(err)
			}
			if err := bob.Set("gold", 1); err != nil {
				t.Fatal(err)
			}
			before := bob.Export()

			// Every way the old reference could reach bob is refused. A
			// transport may need a moment to find the restarted server:
			// the first call retries until it does.
			snap.Set("gold", 999)
			var pushErr error
			for ctx.Err() == nil {
				pushErr = snap.Push(ctx, "gold")
				if runtime.CodeOf(pushErr) != runtime.Unavailable {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			for what, err := range map[string]error{
				"Push":               pushErr,
				"PushAll":            snap.PushAll(ctx),
				"PushIfUnchanged":    snap.PushIfUnchanged(ctx, "gold"),
				"PushAllIfUnchanged": snap.PushAllIfUnchanged(ctx),
				"Unbind":             snap.Unbind(ctx, "alice"),
				"Bind":               snap.Bind(ctx, "mallory"),
				"GetRef":             func() error { _, err := svc.GetRef(ctx, ref); return err }(),
			} {
				if !errors.Is(err, sessionremote.ErrSessionNotFound) {
					t.Errorf("%s with a reference from before the restart = %v, want ErrSessionNotFound", what, err)
				}
			}
			if diff := cmp.Diff(before, bob.Export()); diff != "" {
				t.Errorf("bob's session changed through an old reference (-before +after):\n%s", diff)
			}

			// A fresh lookup finds the new run's session.
			fresh, err := svc.Get(ctx, fid, bob.ID())
			if err != nil || fresh.UID() != "bob" || fresh.Incarnation() != "run-2" {
				t.Fatalf("fresh Get = %v, %v", fresh, err)
			}
			if err := fresh.Push(ctx, "gold"); err != nil {
				t.Fatalf("push through a fresh snapshot: %v", err)
			}
		})
	}
}
