package sessionremote_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// exampleCluster is a frontend "connector-1" holding one session, and a
// backend's service, over the in-process transport.
func exampleCluster() (*session.Session, *sessionremote.BackendSessionService) {
	store := session.NewStore("connector-1")
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	net := runtime.NewInProc()
	if err := net.Serve("connector-1", srv); err != nil {
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
