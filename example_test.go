package sessionrpc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// kicked is a client connection as the connector holds it.
type kicked struct{}

func (kicked) Kick(reason string) { fmt.Println("client told:", reason) }
func (kicked) Close()             {}
func (kicked) Send(route string, msg []byte) error {
	fmt.Println("client pushed:", route, string(msg))
	return nil
}

// The README's backend session API, over TCP: a frontend holds the
// sessions, a backend reads, binds, pushes to and kicks them.
func Example_backendSessionAPI() {
	// Frontend "connector-1": its session store served as sys.sessionRemote.
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	front := tcp.NewServer(srv)
	go front.Serve(ln)
	defer front.Close()
	sid := store.Create(kicked{}).ID() // the connector does this per connection

	// A backend.
	tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{"connector-1": ln.Addr().String()}))
	defer tr.Close()
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(tr))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := svc.Get(ctx, "connector-1", sid) // *BackendSession; ErrSessionNotFound if absent
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Bind(ctx, "user-42"); err != nil { // s.UID() == "user-42" afterwards
		log.Fatal(err)
	}
	s.Set("room", 7) // local until pushed
	if err := s.Push(ctx, "room"); err != nil {
		log.Fatal(err)
	}
	list, _ := svc.GetByUID(ctx, "connector-1", "user-42")
	var room int
	ok, _ := list[0].Get("room", &room) // typed, lossless read
	fmt.Println(s.UID(), len(list), room, ok)

	_, err = svc.Get(ctx, "connector-1", 999)
	fmt.Println(err, errors.Is(err, sessionremote.ErrSessionNotFound), runtime.CodeOf(err))

	if err := svc.KickByUID(ctx, "connector-1", "user-42", "maintenance"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("sessions left:", store.Len())
	// Output:
	// user-42 1 7 true
	// rpc error: not_found: session not found: sid 999 true not_found
	// client told: maintenance
	// sessions left: 0
}

// The README's NATS set-up: an embedded server here; production passes the
// cluster's URLs (and credentials, TLS) to natsrpc.Connect instead.
func Example_nats() {
	ns, err := natsembed.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()

	fnc, _ := natsrpc.Connect(ns.URL()) // frontend's connection
	defer fnc.Close()
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(session.NewStore("connector-1")))
	served, err := natsrpc.Serve(fnc, "connector-1", srv)
	if err != nil {
		log.Fatal(err)
	}
	defer served.Shutdown(context.Background())

	bnc, _ := natsrpc.Connect(ns.URL()) // backend's connection
	defer bnc.Close()
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(natsrpc.NewTransport(bnc)))
	list, err := svc.GetByUID(context.Background(), "connector-1", "nobody")
	fmt.Println(len(list), err)
	_, err = svc.Get(context.Background(), "connector-9", 1)
	fmt.Println(runtime.CodeOf(err))
	// Output:
	// 0 <nil>
	// unavailable
}
