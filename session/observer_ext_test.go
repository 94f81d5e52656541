package session_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
)

// observerLog is a session.Observer that logs every event to an eventLog. On each push it
// reads the pushed session back, which would deadlock if the store called it holding the
// session's lock.
type observerLog struct{ l *eventLog }

func (o observerLog) SessionCreated(s *session.Session) { o.l.add("created %d", s.ID()) }
func (o observerLog) SessionBound(s *session.Session, uid string) {
	o.l.add("bound %d %s", s.ID(), uid)
}
func (o observerLog) SessionUnbound(s *session.Session, uid string) {
	o.l.add("unbound %d %s", s.ID(), uid)
}
func (o observerLog) SettingsPushed(s *session.Session, keys int) {
	_, _ = s.Raw("k")
	o.l.add("pushed %d %d", s.ID(), keys)
}
func (o observerLog) SessionClosed(s *session.Session, reason string, kicked bool) {
	o.l.add("closed %d %q kicked=%v", s.ID(), reason, kicked)
}

// The observer sees every event once, in the order a single caller makes them, and no
// event for calls that change nothing or fail.
func TestObserverSeesEveryEvent(t *testing.T) {
	log := &eventLog{}
	st := session.NewStore("connector-1", session.WithObserver(observerLog{log}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a := st.Create(nil)
		b := st.Create(&fakeConn{})
		must(t, st.Bind(a.ID(), "u1"))
		must(t, st.Bind(a.ID(), "u1")) // again: not a new binding
		if st.Bind(a.ID(), "u2") == nil {
			t.Error("binding a bound session to another uid succeeded")
		}
		must(t, st.Push(a.ID(), "k", json.RawMessage(`1`)))
		if st.Push(a.ID(), "k", json.RawMessage(`{`)) == nil {
			t.Error("pushing invalid JSON succeeded")
		}
		if st.Push(99, "k", json.RawMessage(`1`)) == nil {
			t.Error("pushing to an unknown session succeeded")
		}
		must(t, st.PushAll(a.ID(), session.Settings{"k": json.RawMessage(`2`), "j": nil, "i": json.RawMessage(`"x"`)}))
		must(t, st.Unbind(a.ID(), "u1"))
		must(t, b.Bind("u3"))
		st.KickByUID("u3", "maintenance")
		st.KickBySID(b.ID(), "again") // already closed: nothing
		a.Close("client gone")
		c := st.Create(nil)
		c.Kick("")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the store's calls did not return: is the observer called with a lock held?")
	}
	want := []string{
		"created 1", "created 2",
		"bound 1 u1",
		"pushed 1 1",
		"pushed 1 3",
		"unbound 1 u1",
		"bound 2 u3",
		`closed 2 "maintenance" kicked=true`,
		`closed 1 "client gone" kicked=false`,
		"created 3",
		`closed 3 "kick" kicked=true`,
	}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("observer events (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}
