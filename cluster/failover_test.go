package cluster_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

func startCluster(t *testing.T, n int) []*natsembed.Server {
	t.Helper()
	nodes, err := natsembed.StartCluster(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range nodes {
		t.Cleanup(s.Shutdown)
	}
	return nodes
}

// urls lists the nodes' URLs, first first: a client connects to the first
// and fails over to the others.
func urls(first *natsembed.Server, others ...*natsembed.Server) string {
	return natsembed.URLs(append([]*natsembed.Server{first}, others...))
}

// A 3-node NATS cluster loses node A, which one member and one view are
// connected to. Both fail over to another node; no view reports any member
// as left, then or after.
func TestNATSNodeFailover(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	e := newEnv(t, "")
	dont := nats.DontRandomize()

	e.joinOn(connect(t, urls(a, b, c), dont), cluster.Info{ID: "on-a", Type: "room"})
	e.joinOn(connect(t, urls(b, c, a), dont), cluster.Info{ID: "on-b", Type: "room"})
	e.joinOn(connect(t, urls(c, a, b), dont), cluster.Info{ID: "on-c", Type: "connector"})
	mover := connect(t, urls(a, b, c), dont)
	views := []*cluster.View{
		e.viewOn(mover),
		e.viewOn(connect(t, urls(b, c, a), dont)),
		e.viewOn(connect(t, urls(c, a, b), dont)),
	}
	var evs []*events
	for i, v := range views {
		evs = append(evs, watch(t, v))
		waitFor(t, "three members in view "+string(rune('A'+i)), func() bool { return len(v.Members()) == 3 })
	}

	killed := time.Now()
	a.Shutdown()
	waitFor(t, "the view on A reconnected", func() bool { return mover.IsConnected() && mover.ConnectedUrl() != a.URL() })
	t.Logf("clients of node A reconnected within %v", time.Since(killed).Round(time.Millisecond))
	// Three leave bounds: a member silent through the failover would have
	// expired twice over.
	time.Sleep(3 * e.bound)
	for i, ev := range evs {
		for _, x := range ev.snapshot() {
			if x.Type == cluster.Left {
				t.Errorf("view %c: %v during the failover", 'A'+i, x)
			}
		}
		if got := ids(views[i].Members()); !slices.Equal(got, []string{"on-a", "on-b", "on-c"}) {
			t.Errorf("view %c lists %v", 'A'+i, got)
		}
	}
}

// A view whose own NATS connection is down drops nobody, however long: it
// cannot tell. When it reconnects, every member gets a fresh leave bound:
// a member that died meanwhile then leaves within it, the others stay.
func TestDeafViewExpiresNobody(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 2)
	x, y := nodes[0], nodes[1]
	e := newEnv(t, y.URL())
	// Only X: no failing over to servers X told it about.
	v := e.viewOn(connect(t, x.URL(), nats.IgnoreDiscoveredServers()))
	ev := watch(t, v)
	e.join(cluster.Info{ID: "stays-1", Type: "room"})
	e.join(cluster.Info{ID: "stays-2", Type: "room"})
	_, victim := e.join(cluster.Info{ID: "dies", Type: "room"})
	waitFor(t, "three members", func() bool { return len(v.Members()) == 3 })

	clientURL, _ := url.Parse(x.URL())
	x.Shutdown()
	victim.Close()
	time.Sleep(2 * e.bound)
	for _, x := range ev.snapshot() {
		if x.Type == cluster.Left {
			t.Errorf("%v while the view was deaf", x)
		}
	}
	if got := len(v.Members()); got != 3 {
		t.Errorf("%d members while deaf, want the 3 it knew", got)
	}

	// Node X comes back on its port, routed to Y; the view reconnects.
	port := clientURL.Port()
	back, err := natsembed.Start(func(o *server.Options) {
		o.ServerName = "x-again"
		o.Port = atoi(t, port)
		o.Cluster = server.ClusterOpts{Name: "natsembed", Host: "127.0.0.1", Port: server.RANDOM_PORT}
		o.Routes = []*url.URL{{Scheme: "nats-route", Host: y.NATS().ClusterAddr().String()}}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(back.Shutdown)
	heard := time.Now()
	l, _, at := ev.next(t, 0, "leave of the member that died while the view was deaf", is(cluster.Left, "dies"))
	t.Logf("dead member left %v after node X came back (leave bound %v)", at.Sub(heard).Round(time.Millisecond), e.bound)
	if l.Reason != cluster.Expired {
		t.Errorf("reason %v", l.Reason)
	}
	if at.Sub(heard) > 3*e.bound {
		t.Errorf("took %v, more than 3× the leave bound", at.Sub(heard))
	}
	time.Sleep(e.bound)
	for _, x := range ev.snapshot() {
		if x.Type == cluster.Left && x.Member.ID != "dies" {
			t.Errorf("%v, but it stayed up", x)
		}
	}
	if got := ids(v.Members()); !slices.Equal(got, []string{"stays-1", "stays-2"}) {
		t.Errorf("members %v", got)
	}
}
