package cluster_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/cluster/internal/room"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// Room servers join the cluster as type "room"; a connector calls "a room
// server" through a generated client on a Router, never naming one. The
// README's discovery snippet is this example.
func Example() {
	ns, err := natsembed.Start() // or an external NATS: only its URL is needed
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The connector's view of the cluster, and a typed client by type.
	nc, err := natsrpc.Connect(ns.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	view, err := cluster.NewView(ctx, nc)
	if err != nil {
		log.Fatal(err)
	}
	defer view.Close()
	joined := view.Watch(ctx, cluster.OfType("room"))
	client := runtime.NewClient(natsrpc.NewTransport(nc)) // calls by server id
	router := cluster.NewRouter(view, client)             // calls by server type
	rooms := room.NewRoomRemoteClient(router)             // generated client, target = type

	// Two room servers, each its own process in production: serve, then join.
	for _, id := range []string{"room-1", "room-2"} {
		nc, err := natsrpc.Connect(ns.URL())
		if err != nil {
			log.Fatal(err)
		}
		defer nc.Close()
		srv := runtime.NewServer()
		room.RegisterRoomRemoteServer(srv, &room.Server{ID: id})
		served, err := natsrpc.Serve(nc, id, srv)
		if err != nil {
			log.Fatal(err)
		}
		defer served.Close()
		reg, err := cluster.Join(ctx, nc, cluster.Info{ID: id, Type: "room", Routes: srv.Routes()})
		if err != nil {
			log.Fatal(err)
		}
		defer reg.Leave(ctx)
	}
	for range 2 {
		e := <-joined
		fmt.Println(e.Type, e.Member.ID, e.Member.Type, e.Member.HasRoute(room.RoomRemoteJoinRoute))
	}

	// The same uid reaches the same room server while membership holds.
	first, err := rooms.Join(cluster.WithRouteKey(ctx, "user-42"), "room", "user-42")
	if err != nil {
		log.Fatal(err)
	}
	again, err := rooms.Join(cluster.WithRouteKey(ctx, "user-42"), "room", "user-42")
	fmt.Println("same room server:", first == again, err)

	// Every room server, each with its outcome (pomelo's toServer('*')).
	byID := room.NewRoomRemoteClient(client)
	for _, o := range router.Broadcast(ctx, "room", func(ctx context.Context, m cluster.Member) error {
		_, err := byID.Reload(ctx, m.ID)
		return err
	}) {
		fmt.Println("reloaded", o.Member.ID, o.Err)
	}

	// No server of a type: Unavailable at once.
	_, err = room.NewRoomRemoteClient(router).Join(ctx, "lobby", "user-42")
	fmt.Println(runtime.CodeOf(err))
	// Output:
	// join room-1 room true
	// join room-2 room true
	// same room server: true <nil>
	// reloaded room-1 <nil>
	// reloaded room-2 <nil>
	// unavailable
}
