package sessionremote_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sessionrpc/sessionrpc/internal/roomhandler"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Every example runs a frontend and a backend in one process over the
// in-process transport, which encodes every call as the network transports
// do. A cluster passes a TCP or NATS transport to runtime.NewClient instead.

func ExampleNewBackendSessionService() {
	// Frontend "connector-1": its session store, served as sys.sessionRemote.
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	sid := store.Create(nil).ID() // the connector does this for each client connection

	// A backend reaches every frontend through one service.
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	s, err := svc.Get(context.Background(), "connector-1", sid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.FrontendID(), s.ID())
	// Output:
	// connector-1 1
}

func ExampleBackendSessionService_Get() {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	ctx := context.Background()

	front := store.Create(nil)
	_ = front.Bind("user-42")
	_ = front.Set("room", 7)

	s, err := svc.Get(ctx, "connector-1", front.ID())
	if err != nil {
		log.Fatal(err)
	}
	var room int
	ok, err := s.Get("room", &room) // typed and lossless
	fmt.Println(s.UID(), room, ok, err)

	// A session the frontend does not hold is an error, matched across the wire.
	_, err = svc.Get(ctx, "connector-1", 999)
	fmt.Println(errors.Is(err, sessionremote.ErrSessionNotFound), runtime.CodeOf(err))
	// Output:
	// user-42 7 true <nil>
	// true not_found
}

func ExampleBackendSession_Bind() {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	ctx := context.Background()
	front := store.Create(nil)

	s, err := svc.Get(ctx, "connector-1", front.ID())
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Bind(ctx, "user-42"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.UID(), front.UID()) // the snapshot and the real session agree

	// A session bound to one uid refuses another; the snapshot keeps its uid.
	err = s.Bind(ctx, "user-7")
	fmt.Println(errors.Is(err, sessionremote.ErrAlreadyBound), s.UID())
	// Output:
	// user-42 user-42
	// true user-42
}

func ExampleBackendSession_Push() {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	ctx := context.Background()
	front := store.Create(nil)

	s, err := svc.Get(ctx, "connector-1", front.ID())
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Set("room", 7); err != nil { // local: the frontend has not seen it
		log.Fatal(err)
	}
	_, before := front.Raw("room")
	if err := s.Push(ctx, "room"); err != nil { // now it has
		log.Fatal(err)
	}
	room, after := front.Raw("room")
	fmt.Println(before, after, string(room))

	// Remove, then Push, deletes the key on the frontend too.
	s.Remove("room")
	if err := s.Push(ctx, "room"); err != nil {
		log.Fatal(err)
	}
	_, still := front.Raw("room")
	fmt.Println(still)
	// Output:
	// false true 7
	// false
}

func ExampleBackendSession_Export() {
	store := session.NewStore("connector-1", session.WithIncarnation("run-1")) // this start of the process
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	ctx := context.Background()
	front := store.Create(nil)
	_ = front.Bind("user-42")
	_ = front.Set("room", 7)
	_ = front.Set("team", "red")

	s, err := svc.Get(ctx, "connector-1", front.ID())
	if err != nil {
		log.Fatal(err)
	}
	info := s.Export()
	fmt.Printf("%+v\n", info)

	// The export is a deep copy: changing it changes neither the snapshot
	// nor the frontend.
	info.Settings["room"][0] = '9'
	var room int
	_, _ = s.Get("room", &room)
	fmt.Println(room)
	// Output:
	// {ID:1 FrontendID:connector-1 Incarnation:run-1 UID:user-42 Revision:4 Settings:map[room:7 team:"red"]}
	// 7
}

// exampleCluster is a frontend "connector-1" holding one session, and a
// backend's service, over the in-process transport.
func exampleCluster() (*session.Session, *sessionremote.BackendSessionService) {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	net := runtime.NewInProc()
	if _, err := net.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	return store.Create(nil), sessionremote.NewBackendSessionService(runtime.NewClient(net))
}

// Update is a read-modify-write that loses no one's change: when another
// backend changed the session between the read and the push, it reads again
// and runs the function again.
func ExampleBackendSessionService_Update() {
	s, svc := exampleCluster()
	ctx := context.Background()

	err := svc.Update(ctx, "connector-1", s.ID(), func(bs *sessionremote.BackendSession) error {
		var gold int
		if _, err := bs.Get("gold", &gold); err != nil {
			return err
		}
		return bs.Set("gold", gold+10)
	})
	var gold int
	s.Get("gold", &gold)
	fmt.Println(err, gold, s.Revision())
	// Output:
	// <nil> 10 2
}

// A conditional write from a snapshot fails if anyone changed the session
// after the snapshot was read, and says what revision it is at now.
func ExampleBackendSession_PushAllIfUnchanged() {
	s, svc := exampleCluster()
	ctx := context.Background()

	a, _ := svc.Get(ctx, "connector-1", s.ID()) // two backends read revision 1
	b, _ := svc.Get(ctx, "connector-1", s.ID())
	a.Set("room", 7)
	fmt.Println(a.PushAllIfUnchanged(ctx), a.Revision())

	b.Set("room", 8)
	err := b.PushAllIfUnchanged(ctx)
	var conflict *sessionremote.ConflictError
	fmt.Println(errors.Is(err, sessionremote.ErrRevisionConflict), runtime.CodeOf(err))
	if errors.As(err, &conflict) {
		fmt.Println("now at revision", conflict.Revision)
	}
	// Output:
	// <nil> 2
	// true aborted
	// now at revision 2
}

// A frontend calls a backend on a client's behalf, and the backend's
// handler gets the client's session from its context: no lookup, no round
// trip. The handler here is roomhandler.Server.Join:
//
//	func (s *Server) Join(ctx context.Context, req JoinRequest) (JoinReply, error) {
//		bs, err := sessionremote.FromContext(ctx) // the client's session
//		...
//		err = bs.Bind(ctx, req.UID)
//		bs.Set("room", req.Room); err = bs.Push(ctx, "room")
//	}
func ExampleFromContext() {
	inproc := runtime.NewInProc()
	client := runtime.NewClient(inproc)

	// Frontend "connector-1".
	store := session.NewStore("connector-1")
	front := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(front, sessionremote.NewFrontend(store))
	if _, err := inproc.Serve("connector-1", front); err != nil {
		log.Fatal(err)
	}

	// Backend "room-1": it honours sessions from the frontends it trusts
	// (in-process, everyone; on TCP, TrustIdentities with mutual TLS).
	svc := sessionremote.NewBackendSessionService(client)
	back := runtime.NewServer(runtime.WithInterceptors(svc.Interceptor(sessionremote.TrustAll())))
	roomhandler.RegisterRoomHandlerServer(back, &roomhandler.Server{ID: "room-1"})
	if _, err := inproc.Serve("room-1", back); err != nil {
		log.Fatal(err)
	}

	// A client's request reaches the frontend, which calls the room server
	// with the client's session.
	s := store.Create(nil)
	rooms := roomhandler.NewRoomHandlerClient(client)
	reply, err := rooms.Join(sessionremote.WithSession(context.Background(), s), "room-1",
		roomhandler.JoinRequest{UID: "alice", Room: 7})
	if err != nil {
		log.Fatal(err)
	}
	var room int
	_, _ = s.Get("room", &room)
	fmt.Println(reply.UID, reply.Room, "| frontend:", s.UID(), room)
	// Output:
	// alice 7 | frontend: alice 7
}

// Create makes a backend session of a snapshot received some other way,
// as pomelo's BackendSessionService.create(opts) does.
func ExampleBackendSessionService_Create() {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	if _, err := inproc.Serve("connector-1", srv); err != nil {
		log.Fatal(err)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc))
	front := store.Create(nil)

	s, err := svc.Create(front.Export()) // e.g. from a message queue
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Bind(context.Background(), "bob"), front.UID())

	_, err = svc.Create(session.Info{ID: 1}) // no frontend
	fmt.Println(runtime.CodeOf(err))
	// Output:
	// <nil> bob
	// invalid_argument
}
