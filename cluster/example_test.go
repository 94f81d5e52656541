package cluster_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/cluster/internal/room"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// Room servers serve over TCP and join the cluster as type "room"; a
// connector finds them through NATS alone and calls "a room server" through
// a generated client on a Router, never naming one. The README's discovery
// snippet is taken from this example.
func Example() {
	ns, err := natsembed.Start() // or an external NATS: only its URL is needed
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect := func() *nats.Conn {
		nc, err := natsrpc.Connect(ns.URL())
		if err != nil {
			log.Fatal(err)
		}
		return nc
	}

	// The connector's view, started first so that it sees the rooms join.
	nc := connect()
	defer nc.Close()
	view, err := cluster.NewView(ctx, nc) // who is up: a snapshot, and changes
	if err != nil {
		log.Fatal(err)
	}
	defer view.Close()
	events := view.Watch(ctx, cluster.OfType("room")) // Joined, Updated, Left

	// Two room servers, each its own process in production.
	for _, id := range []string{"room-1", "room-2"} {
		nc := connect()
		defer nc.Close()
		srv := runtime.NewServer()
		room.RegisterRoomRemoteServer(srv, &room.Server{ID: id})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		inc := cluster.NewIncarnation()                        // this run of the server, known before it joins
		front := tcp.NewServer(srv, tcp.WithIdentity(id, inc)) // refuses connections meant for another run
		go front.Serve(ln)
		defer front.Close()
		reg, err := cluster.Join(ctx, nc, cluster.Info{ID: id, Type: "room", Addr: ln.Addr().String(), Routes: srv.Routes()},
			cluster.WithIncarnation(inc))
		if err != nil {
			log.Fatal(err)
		}
		defer reg.Leave(ctx) // goodbye: every view drops it at once
	}
	for range 2 {
		e := <-events
		fmt.Println(e.Type, e.Member.ID, e.Member.HasRoute(room.RoomRemoteJoinRoute))
	}

	// The connector calls by type, over TCP, with no address map.
	tr := tcp.NewTransport(view) // a View is a tcp.Resolver
	defer tr.Close()
	client := runtime.NewClient(tr)                 // calls by server id
	router := cluster.NewRouter(view, client)       // calls by server type
	roomsByType := room.NewRoomRemoteClient(router) // generated client; its target is now a type
	roomsByID := room.NewRoomRemoteClient(client)   // the same, by id
	rooms := view.Members(cluster.OfType("room"))   // []cluster.Member, copies
	uid := "user-42"
	id, err := roomsByType.Join(cluster.WithRouteKey(ctx, uid), "room", uid) // same uid, same room server
	if err != nil {
		log.Fatal(err)
	}
	again, err := roomsByType.Join(cluster.WithRouteKey(ctx, uid), "room", uid)
	fmt.Println(len(rooms), "rooms; the same one twice:", id == again, err)

	outs := router.Broadcast(ctx, "room", func(ctx context.Context, m cluster.Member) error {
		_, err := roomsByID.Reload(ctx, m.ID) // pomelo's toServer('*'): each member's outcome
		return err
	})
	for _, o := range outs {
		fmt.Println("reloaded", o.Member.ID, o.Err)
	}

	_, err = roomsByType.Join(ctx, "lobby", uid) // no server of the type: Unavailable at once
	fmt.Println(runtime.CodeOf(err))
	// Output:
	// join room-1 true
	// join room-2 true
	// 2 rooms; the same one twice: true <nil>
	// reloaded room-1 <nil>
	// reloaded room-2 <nil>
	// unavailable
}
