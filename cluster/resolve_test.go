package cluster_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/cluster/internal/room"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// A View is a tcp.Resolver.
var _ tcp.Resolver = (*cluster.View)(nil)

// serveTCP serves a room server over TCP on loopback and returns its
// listener's port and the server, which the test closes.
func serveTCP(t *testing.T, id string) (port string, srv *tcp.Server) {
	t.Helper()
	rs := runtime.NewServer(runtime.WithLogger(quiet))
	room.RegisterRoomRemoteServer(rs, &room.Server{ID: id})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv = tcp.NewServer(rs, tcp.WithLogger(quiet))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, srv
}

// A TCP cluster with no address map: servers announce their advertised
// addresses on NATS, and a transport resolves ids through a view. Calls by
// id and by type go over TCP; a member whose TCP server is gone is not
// delivered to, and the router tries another.
func TestTCPThroughMembership(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	view := e.view()
	tr := tcp.NewTransport(view, tcp.WithLogger(quiet))
	t.Cleanup(func() { tr.Close() })
	client := runtime.NewClient(tr)
	byID := room.NewRoomRemoteClient(client)

	port1, _ := serveTCP(t, "room-1")
	port2, srv2 := serveTCP(t, "room-2")
	// Advertised addresses: what others dial, here a name for loopback
	// rather than the address the server listens on.
	r1, _ := e.join(cluster.Info{ID: "room-1", Type: "room", Addr: "localhost:" + port1})
	e.join(cluster.Info{ID: "room-2", Type: "room", Addr: "localhost:" + port2})
	e.join(cluster.Info{ID: "lobby-1", Type: "lobby"}) // no TCP
	waitFor(t, "three members", func() bool { return len(view.Members()) == 3 })

	ctx := ctxFor(t, wait)
	for _, id := range []string{"room-1", "room-2"} {
		if got, err := byID.Join(ctx, id, "u"); err != nil || got != id {
			t.Errorf("call to %s by id: %q %v", id, got, err)
		}
	}
	addr, inc, err := view.ResolveMember(ctx, "room-1")
	if err != nil || addr != "localhost:"+port1 || inc != r1.Member().Incarnation {
		t.Errorf("ResolveMember(room-1) = %q %q %v", addr, inc, err)
	}
	for id, why := range map[string]string{"lobby-1": "no TCP address", "room-9": "no live server"} {
		_, err := view.Resolve(ctx, id)
		if !errors.Is(err, runtime.ErrNotDelivered) || !strings.Contains(err.Error(), why) {
			t.Errorf("Resolve(%s): %v, want not delivered: %s", id, err, why)
		}
		if _, err := byID.Join(ctx, id, "u"); !errors.Is(err, runtime.ErrNotDelivered) {
			t.Errorf("call to %s: %v, want not delivered", id, err)
		}
	}

	// room-2's process loses its TCP server but stays a member: a new
	// caller's dials fail, and its calls by type that pick room-2 go to
	// room-1 instead. (The first caller's calls on its open connection
	// fail with Unavailable, not retried: they may have been delivered.)
	srv2.Close()
	tr2 := tcp.NewTransport(view, tcp.WithLogger(quiet))
	t.Cleanup(func() { tr2.Close() })
	router := cluster.NewRouter(view, runtime.NewClient(tr2))
	byType := room.NewRoomRemoteClient(router)
	retried := 0
	for i := range 40 {
		key := cluster.WithRouteKey(ctx, "user-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		got, err := byType.Join(key, "room", "u")
		if err != nil || got != "room-1" {
			t.Fatalf("call %d by type with room-2 unreachable: %q %v", i, got, err)
		}
		if m, _ := router.Pick(key, "room", "", nil); m.ID == "room-2" {
			retried++
		}
	}
	t.Logf("%d of 40 calls picked room-2 first and went to room-1", retried)
	if retried == 0 {
		t.Error("no call picked room-2: the retry went untested")
	}
}
