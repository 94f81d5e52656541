package session_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
)

// Send hands a message to the session's connection, and fails clearly when there is no
// client to take it.
func TestSend(t *testing.T) {
	st := session.NewStore(fid)
	s, c := create(st, nil)
	must(t, s.Send("onChat", []byte(`{"text":"hi"}`)))
	if diff := cmp.Diff([]string{`onChat {"text":"hi"}`}, c.messages()); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	bare := st.Create(nil)
	if err := bare.Send("onChat", nil); !errors.Is(err, session.ErrNoConn) {
		t.Errorf("Send on a session without a connection: %v, want ErrNoConn", err)
	}

	s.Close("gone")
	if err := s.Send("onChat", []byte(`{}`)); !errors.Is(err, session.ErrSessionClosed) {
		t.Errorf("Send after close: %v, want ErrSessionClosed", err)
	}
	if n := len(c.messages()); n != 1 {
		t.Errorf("the connection got %d messages, want the 1 sent before close", n)
	}
}

// A connection's own failure comes back wrapped, naming the session and the route.
func TestSendConnError(t *testing.T) {
	st := session.NewStore(fid)
	c := &fakeConn{}
	s := st.Create(c)
	c.Close() // the client went away without the store knowing yet
	err := s.Send("onChat", []byte(`{}`))
	if err == nil || errors.Is(err, session.ErrSessionClosed) {
		t.Fatalf("Send through a closed connection: %v, want the connection's error", err)
	}
	if want := "session: sid 1: send onChat: fakeConn: closed"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
