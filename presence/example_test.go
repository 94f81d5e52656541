package presence_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// printConn is a client's connection: it prints what the server sends it.
type printConn struct{ name string }

func (c printConn) Kick(reason string) { fmt.Printf("%s told: kicked, %s\n", c.name, reason) }
func (c printConn) Close()             {}
func (c printConn) Send(route string, msg []byte) error {
	fmt.Printf("%s got %s %s\n", c.name, route, msg)
	return nil
}

// A frontend keeps its users in the index; a backend finds alice, pushes
// her a message wherever she is, and kicks her everywhere.
func ExampleDirectory() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := natsembed.Start(natsembed.WithJetStream())
	if err != nil {
		panic(err)
	}
	defer ns.Shutdown()
	fnc, _ := natsrpc.Connect(ns.URL())
	defer fnc.Close()
	bnc, _ := natsrpc.Connect(ns.URL())
	defer bnc.Close()

	// Frontend "connector-1": its store, presence, and membership under the
	// store's incarnation.
	inc := cluster.NewIncarnation()
	store := session.NewStore("connector-1", session.WithIncarnation(inc))
	fe, err := presence.NewFrontend(ctx, fnc, store)
	if err != nil {
		panic(err)
	}
	defer fe.Close()
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	presence.RegisterPresenceRemoteServer(srv, fe)
	served, _ := natsrpc.Serve(fnc, "connector-1", srv)
	defer served.Close()
	reg, err := cluster.Join(ctx, fnc, cluster.Info{ID: "connector-1", Type: "connector", Frontend: true},
		cluster.WithIncarnation(inc))
	if err != nil {
		panic(err)
	}
	defer reg.Leave(ctx)

	s := store.Create(printConn{"alice's client"})
	_ = s.Bind("alice")
	_ = fe.Sync(ctx) // the index has it (it would a moment later anyway)

	// A backend.
	view, _ := cluster.NewView(ctx, bnc)
	defer view.Close()
	for len(view.Members(cluster.Frontends())) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	client := runtime.NewClient(natsrpc.NewTransport(bnc))
	dir, err := presence.NewDirectory(ctx, bnc, view, client)
	if err != nil {
		panic(err)
	}
	defer dir.Close()

	locs, _ := dir.Locate(ctx, "alice")
	fmt.Println("alice is on", locs[0].FrontendID, "sessions", locs[0].SIDs)
	ds := dir.PushByUIDs(ctx, "onChat", []byte(`{"text":"hi"}`), []string{"alice", "bob"})
	fmt.Println(ds[0].UID, ds[0].Status, ds[0].Sessions, "/", ds[1].UID, ds[1].Status)
	res := dir.KickByUIDEverywhere(ctx, "alice", "banned")
	for _, o := range res.Frontends {
		fmt.Println(o.FrontendID, o.Status, "kicked", o.Kicked)
	}
	fmt.Println("incomplete:", res.Err() != nil)
	// Output:
	// alice is on connector-1 sessions [1]
	// alice's client got onChat {"text":"hi"}
	// alice done 1 / bob none
	// alice's client told: kicked, banned
	// connector-1 done kicked 1
	// incomplete: false
}
