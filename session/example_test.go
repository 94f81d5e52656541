package session_test

import (
	"errors"
	"fmt"

	"github.com/sessionrpc/sessionrpc/session"
)

// printConn stands in for a connector's client connection.
type printConn struct{ name string }

func (c printConn) Kick(reason string) { fmt.Printf("%s: kick packet %q\n", c.name, reason) }
func (c printConn) Close()             { fmt.Printf("%s: disconnected\n", c.name) }
func (c printConn) Send(route string, msg []byte) error {
	fmt.Printf("%s: push %s %s\n", c.name, route, msg)
	return nil
}

func ExampleNewStore() {
	st := session.NewStore("connector-1", session.WithSingleSession())
	st.OnClosed(func(s *session.Session, reason string) {
		fmt.Printf("session %d of %q closed: %s\n", s.ID(), s.UID(), reason)
	})

	s := st.Create(printConn{"client"})
	_ = s.Bind("user-42")
	s.Close("connection closed") // the client went away: no kick packet

	fmt.Println("sessions left:", st.Len())
	// Output:
	// session 1 of "user-42" closed: connection closed
	// client: disconnected
	// sessions left: 0
}

func ExampleStore_Create() {
	st := session.NewStore("connector-1")
	s := st.Create(printConn{"client"}) // once per accepted connection

	_ = s.Set("room", 7)
	var room int
	ok, _ := s.Get("room", &room)
	fmt.Println(s.ID(), s.FrontendID(), room, ok)
	// Output:
	// 1 connector-1 7 true
}

func ExampleStore_Bind() {
	st := session.NewStore("connector-1", session.WithSingleSession())
	st.OnBind(func(s *session.Session, uid string) {
		fmt.Printf("session %d bound to %s\n", s.ID(), uid)
	})
	first := st.Create(nil)
	second := st.Create(nil)

	fmt.Println(st.Bind(first.ID(), "user-42"))
	fmt.Println(st.Bind(first.ID(), "user-42")) // already bound to it: fine, no hook
	err := st.Bind(second.ID(), "user-42")
	fmt.Println(errors.Is(err, session.ErrSingleSession))
	err = st.Bind(99, "user-7")
	fmt.Println(errors.Is(err, session.ErrSessionNotFound))
	// Output:
	// session 1 bound to user-42
	// <nil>
	// <nil>
	// true
	// true
}

func ExampleStore_KickByUID() {
	st := session.NewStore("connector-1")
	st.OnClosed(func(s *session.Session, reason string) {
		fmt.Printf("closed hook: session %d, %s\n", s.ID(), reason)
	})
	for _, name := range []string{"phone", "tablet"} {
		s := st.Create(printConn{name})
		_ = s.Bind("user-42")
	}

	st.KickByUID("user-42", "logged in elsewhere")
	st.KickByUID("user-42", "again") // nothing left to kick
	fmt.Println("sessions left:", st.Len())
	// Output:
	// closed hook: session 1, logged in elsewhere
	// phone: kick packet "logged in elsewhere"
	// phone: disconnected
	// closed hook: session 2, logged in elsewhere
	// tablet: kick packet "logged in elsewhere"
	// tablet: disconnected
	// sessions left: 0
}

func ExampleSession_Kick() {
	st := session.NewStore("connector-1")
	s := st.Create(printConn{"client"})

	s.Kick("") // the default reason is "kick"
	s.Kick("twice")
	fmt.Println(s.Closed(), st.Get(s.ID()) == nil)
	// Output:
	// client: kick packet "kick"
	// client: disconnected
	// true true
}

func ExampleSession_Get() {
	st := session.NewStore("connector-1")
	s := st.Create(nil)
	_ = s.Set("balance", uint64(18446744073709551615))

	var exact uint64
	_, _ = s.Get("balance", &exact)
	var untyped any // numbers decode as json.Number, never float64
	_, _ = s.Get("balance", &untyped)
	fmt.Println(exact, untyped)
	// Output:
	// 18446744073709551615 18446744073709551615
}

func ExampleStore_PushAll() {
	st := session.NewStore("connector-1")
	s := st.Create(nil)
	_ = st.PushAll(s.ID(), session.Settings{"room": []byte(`7`), "seat": []byte(`3`)})
	// Merge: "room" changes, "seat" is deleted by its nil value, absent keys are kept.
	_ = st.PushAll(s.ID(), session.Settings{"room": []byte(`8`), "seat": nil, "team": []byte(`"red"`)})

	info, _ := st.Export(s.ID())
	fmt.Printf("%s %s %v\n", info.Settings["room"], info.Settings["team"], len(info.Settings))
	// Output:
	// 8 "red" 2
}
