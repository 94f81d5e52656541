package session_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/session"
)

// eventLog collects hook and connection events in order, as strings that read well in
// a diff.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// take returns the events logged so far and empties the log.
func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

// recordHooks registers hooks on st that log every event to l.
func recordHooks(st *session.Store, l *eventLog) {
	st.OnBind(func(s *session.Session, uid string) { l.add("bind %d %s", s.ID(), uid) })
	st.OnUnbind(func(s *session.Session, uid string) { l.add("unbind %d %s", s.ID(), uid) })
	st.OnClosed(func(s *session.Session, reason string) { l.add("closed %d %s", s.ID(), reason) })
}

// fakeConn is a [session.Conn] that counts its calls and optionally logs them.
type fakeConn struct {
	mu     sync.Mutex
	id     session.ID // set by the test once the session exists, for the log
	log    *eventLog
	kicks  []string
	closes int
	sent   []string
}

func (c *fakeConn) Kick(reason string) {
	c.mu.Lock()
	c.kicks = append(c.kicks, reason)
	c.mu.Unlock()
	if c.log != nil {
		c.log.add("kick %d %s", c.id, reason)
	}
}

func (c *fakeConn) Close() {
	c.mu.Lock()
	c.closes++
	c.mu.Unlock()
	if c.log != nil {
		c.log.add("close %d", c.id)
	}
}

func (c *fakeConn) Send(route string, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closes > 0 {
		return errors.New("fakeConn: closed")
	}
	c.sent = append(c.sent, route+" "+string(msg))
	return nil
}

// messages returns what was sent, "route msg" each.
func (c *fakeConn) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

func (c *fakeConn) calls() (kicks []string, closes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.kicks), c.closes
}

// create makes a session whose connection logs to l (which may be nil).
func create(st *session.Store, l *eventLog) (*session.Session, *fakeConn) {
	c := &fakeConn{log: l}
	s := st.Create(c)
	c.id = s.ID()
	return s, c
}

// ids returns the ids of sessions, in order.
func ids(list []*session.Session) []session.ID {
	out := make([]session.ID, 0, len(list))
	for _, s := range list {
		out = append(out, s.ID())
	}
	return out
}

// within fails the test if f has not returned after a few seconds, which is how the
// tests detect a deadlock instead of hanging until the global test timeout. f runs on
// another goroutine, so it must report with t.Error, not t.Fatal.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: call did not return within 10s")
	}
}

func mustRaw(t *testing.T, v any) []byte {
	t.Helper()
	b, err := session.EncodeValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
