package session_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
)

// A kick runs the closed hooks, then delivers the kick, then closes; each exactly once,
// with the reason, whichever entry point and however often it is called.
func TestKickSequenceOnce(t *testing.T) {
	kicks := map[string]func(st *session.Store, s *session.Session){
		"Session.Kick":    func(_ *session.Store, s *session.Session) { s.Kick("bye") },
		"Store.KickBySID": func(st *session.Store, s *session.Session) { st.KickBySID(s.ID(), "bye") },
		"Store.KickByUID": func(st *session.Store, s *session.Session) { st.KickByUID("u", "bye") },
	}
	for name, kick := range kicks {
		t.Run(name, func(t *testing.T) {
			var log eventLog
			st := session.NewStore(fid)
			recordHooks(st, &log)
			s, c := create(st, &log)
			if err := s.Bind("u"); err != nil {
				t.Fatal(err)
			}
			log.take()
			kick(st, s)
			kick(st, s)
			s.Kick("again")
			s.Close("disconnect")
			want := []string{"closed 1 bye", "kick 1 bye", "close 1"}
			if diff := cmp.Diff(want, log.take()); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if kicks, closes := c.calls(); !cmp.Equal(kicks, []string{"bye"}) || closes != 1 {
				t.Fatalf("conn got kicks %q and %d closes, want [bye] and 1", kicks, closes)
			}
			if !s.Closed() || st.Len() != 0 {
				t.Fatalf("Closed() = %v, Len() = %d after kick", s.Closed(), st.Len())
			}
		})
	}
}

// An empty reason becomes "kick", as in pomelo.
func TestKickDefaultReason(t *testing.T) {
	var log eventLog
	st := session.NewStore(fid)
	recordHooks(st, &log)
	a, _ := create(st, &log)
	b, _ := create(st, &log)
	c, _ := create(st, &log)
	if err := c.Bind("u"); err != nil {
		t.Fatal(err)
	}
	log.take()
	a.Kick("")
	st.KickBySID(b.ID(), "")
	st.KickByUID("u", "")
	want := []string{
		"closed 1 kick", "kick 1 kick", "close 1",
		"closed 2 kick", "kick 2 kick", "close 2",
		"closed 3 kick", "kick 3 kick", "close 3",
	}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// A client disconnect closes without a kick packet; later kicks do nothing.
func TestCloseDoesNotKick(t *testing.T) {
	var log eventLog
	st := session.NewStore(fid)
	recordHooks(st, &log)
	s, c := create(st, &log)
	s.Close("connection closed")
	s.Close("again")
	s.Kick("too late")
	st.KickBySID(s.ID(), "too late")
	want := []string{"closed 1 connection closed", "close 1"}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if kicks, closes := c.calls(); len(kicks) != 0 || closes != 1 {
		t.Fatalf("conn got kicks %q and %d closes, want none and 1", kicks, closes)
	}
}

// A session without a connection can be kicked: it is just forgotten.
func TestKickNilConn(t *testing.T) {
	st := session.NewStore(fid)
	closed := 0
	st.OnClosed(func(*session.Session, string) { closed++ })
	s := st.Create(nil)
	s.Kick("")
	st.Create(nil).Close("")
	if closed != 2 || st.Len() != 0 || st.Get(s.ID()) != nil {
		t.Fatalf("closed hooks %d, Len %d: nil-conn sessions not closed cleanly", closed, st.Len())
	}
}

// A closed session is read-only but still readable, which closed hooks rely on.
func TestClosedSessionReadOnly(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := s.Bind("u"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("room", 7); err != nil {
		t.Fatal(err)
	}
	var seen session.Info
	st.OnClosed(func(cs *session.Session, _ string) { seen = cs.Export() })
	s.Kick("")

	want := session.Info{ID: s.ID(), FrontendID: fid, UID: "u", Revision: 3, Settings: session.Settings{"room": []byte("7")}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("closed hook saw (-want +got):\n%s", diff)
	}
	for name, err := range map[string]error{
		"Set":    s.Set("x", 1),
		"Bind":   s.Bind("v"),
		"Unbind": s.Unbind("u"),
	} {
		if !errors.Is(err, session.ErrSessionClosed) {
			t.Errorf("%s on closed session = %v, want ErrSessionClosed", name, err)
		}
	}
	for name, err := range map[string]error{
		"Store.Bind":    st.Bind(s.ID(), "v"),
		"Store.Unbind":  st.Unbind(s.ID(), "u"),
		"Store.Push":    st.Push(s.ID(), "x", []byte("1")),
		"Store.PushAll": st.PushAll(s.ID(), nil),
	} {
		if !errors.Is(err, session.ErrSessionNotFound) {
			t.Errorf("%s on closed session = %v, want ErrSessionNotFound", name, err)
		}
	}
	if _, err := st.Export(s.ID()); !errors.Is(err, session.ErrSessionNotFound) {
		t.Errorf("Store.Export of closed session = %v, want ErrSessionNotFound", err)
	}
	s.Remove("room")
	if diff := cmp.Diff(want, s.Export()); diff != "" {
		t.Fatalf("closed session changed (-want +got):\n%s", diff)
	}
}

// pomelo #355: a closed hook that kicks the other sessions of the same uid must not
// derail KickByUID, which would skip sessions or kick one twice if it walked the live list.
func TestClosedHookKicksSiblingDuringKickByUID(t *testing.T) {
	st := session.NewStore(fid)
	var conns []*fakeConn
	for range 5 {
		s, c := create(st, nil)
		if err := s.Bind("u"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	other, otherConn := create(st, nil)
	if err := other.Bind("v"); err != nil {
		t.Fatal(err)
	}
	closed := map[session.ID]int{}
	st.OnClosed(func(s *session.Session, _ string) {
		closed[s.ID()]++
		// Kick the next sibling directly, and all of them through the uid.
		if sibs := st.GetByUID(s.UID()); len(sibs) > 0 {
			sibs[len(sibs)-1].Kick("sibling")
		}
		st.KickByUID(s.UID(), "cascade")
	})
	within(t, func() { st.KickByUID("u", "") })

	if st.Len() != 1 || st.Get(other.ID()) != other {
		t.Fatalf("Len() = %d after kicking u; want only session %d left", st.Len(), other.ID())
	}
	if list := st.GetByUID("u"); len(list) != 0 {
		t.Fatalf("GetByUID(u) = %v after kick", ids(list))
	}
	for _, c := range conns {
		if kicks, closes := c.calls(); len(kicks) != 1 || closes != 1 || closed[c.id] != 1 {
			t.Errorf("session %d: kicks %q, closes %d, closed hooks %d; want 1 each",
				c.id, kicks, closes, closed[c.id])
		}
	}
	if kicks, closes := otherConn.calls(); len(kicks) != 0 || closes != 0 {
		t.Errorf("session of another uid was touched: kicks %q closes %d", kicks, closes)
	}
}

// Hooks and Conn methods run with no store lock held: each calls back into the store,
// on the same session and others, which would deadlock otherwise.
func TestHooksCallBackIntoStore(t *testing.T) {
	st := session.NewStore(fid, session.WithSingleSession())
	reenter := func(s *session.Session) {
		st.Get(s.ID())
		st.GetByUID(s.UID())
		st.ExportByUID(s.UID())
		st.Export(s.ID())
		st.Len()
		st.Range(func(*session.Session) bool { return true })
		st.RangeBound(func(*session.Session) bool { return true })
		s.UID()
		s.Closed()
		s.Export()
		s.Raw("k")
	}
	var newcomer *session.Session
	st.OnBind(func(s *session.Session, uid string) {
		reenter(s)
		if err := st.Push(s.ID(), "k", []byte(`1`)); err != nil {
			t.Errorf("Push in bind hook: %v", err)
		}
		if err := s.Set("bound", uid); err != nil {
			t.Errorf("Set in bind hook: %v", err)
		}
	})
	st.OnUnbind(func(s *session.Session, uid string) {
		reenter(s)
		s.Remove("bound")
		if err := s.Bind(uid + "-again"); err != nil {
			t.Errorf("Bind in unbind hook: %v", err)
		}
	})
	st.OnClosed(func(s *session.Session, _ string) {
		reenter(s)
		// The closed session has left the uid index, so under single-session its uid is
		// free for a new session already.
		if newcomer == nil {
			newcomer = st.Create(nil)
			if err := newcomer.Bind(s.UID()); err != nil {
				t.Errorf("Bind of the closing session's uid in closed hook: %v", err)
			}
		}
	})
	conn := &hookConn{st: st}
	s := st.Create(conn)
	conn.s = s

	within(t, func() {
		if err := s.Bind("u"); err != nil {
			t.Error(err)
		}
		if err := st.Unbind(s.ID(), "u"); err != nil {
			t.Error(err)
		}
		if s.UID() != "u-again" {
			t.Errorf("UID() = %q, want u-again from the unbind hook", s.UID())
		}
		st.KickByUID("u-again", "")
	})
	if conn.kicks != 1 || conn.closes != 1 {
		t.Fatalf("conn kicks %d closes %d, want 1 each", conn.kicks, conn.closes)
	}
	if newcomer == nil || newcomer.UID() != "u-again" {
		t.Fatal("closed hook did not rebind the uid to a new session")
	}
}

// hookConn calls back into the store from Kick and Close.
type hookConn struct {
	st            *session.Store
	s             *session.Session
	kicks, closes int
}

func (c *hookConn) Kick(string) {
	c.kicks++
	c.st.Len()
	c.s.Kick("recursive") // already closing: must do nothing, not deadlock
}

func (c *hookConn) Send(string, []byte) error { return nil }

func (c *hookConn) Close() {
	c.closes++
	if c.st.Get(c.s.ID()) != nil {
		panic("closing session still in the store")
	}
	c.s.Close("recursive")
}

// A panicking closed hook still leaves the connection closed and the session gone.
func TestClosedHookPanicStillClosesConn(t *testing.T) {
	st := session.NewStore(fid)
	st.OnClosed(func(*session.Session, string) { panic("hook") })
	s, c := create(st, nil)
	func() {
		defer func() {
			if r := recover(); r != "hook" {
				t.Fatalf("recovered %v, want the hook's panic", r)
			}
		}()
		s.Kick("")
	}()
	if _, closes := c.calls(); closes != 1 || st.Len() != 0 {
		t.Fatalf("after a panicking hook: %d closes, Len %d; want 1, 0", closes, st.Len())
	}
}

// Every error names its sentinel for errors.Is and carries the sid for people.
func TestErrorsWrapContext(t *testing.T) {
	st := session.NewStore(fid, session.WithSingleSession())
	a := st.Create(nil)
	b := st.Create(nil)
	if err := a.Bind("u"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err  error
		want error
	}{
		{st.Bind(99, "u"), session.ErrSessionNotFound},
		{st.Bind(a.ID(), "v"), session.ErrAlreadyBound},
		{st.Bind(b.ID(), "u"), session.ErrSingleSession},
		{st.Unbind(b.ID(), "u"), session.ErrNotBound},
		{st.Unbind(a.ID(), "v"), session.ErrNotBound},
		{st.Bind(a.ID(), ""), session.ErrInvalidUID},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("got %v, want %v", c.err, c.want)
		}
	}
	if err := st.Bind(99, "u"); err.Error() != fmt.Sprintf("%v: sid 99", session.ErrSessionNotFound) {
		t.Errorf("not-found message = %q", err)
	}
}
