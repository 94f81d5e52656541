package session_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
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

// sequenceLog is a session.Observer that keeps each session's events in the order it is
// told them, and counts calls that overlap for one session.
type sequenceLog struct {
	mu       sync.Mutex
	events   map[session.ID][]string
	inside   map[session.ID]bool
	overlaps int
}

func newSequenceLog() *sequenceLog {
	return &sequenceLog{events: make(map[session.ID][]string), inside: make(map[session.ID]bool)}
}

func (l *sequenceLog) add(s *session.Session, e string) {
	l.mu.Lock()
	if l.inside[s.ID()] {
		l.overlaps++
	}
	l.inside[s.ID()] = true
	l.events[s.ID()] = append(l.events[s.ID()], e)
	l.mu.Unlock()
	// Widen the window in which a second call for the session could overlap this one.
	runtime.Gosched()
	l.mu.Lock()
	l.inside[s.ID()] = false
	l.mu.Unlock()
}

func (l *sequenceLog) SessionCreated(s *session.Session)           { l.add(s, "created") }
func (l *sequenceLog) SessionBound(s *session.Session, uid string) { l.add(s, "bound "+uid) }
func (l *sequenceLog) SessionUnbound(s *session.Session, uid string) {
	l.add(s, "unbound "+uid)
}
func (l *sequenceLog) SettingsPushed(s *session.Session, keys int) { l.add(s, "pushed") }
func (l *sequenceLog) SessionClosed(s *session.Session, reason string, kicked bool) {
	l.add(s, "closed")
}

// checkLifecycle reports what is wrong with one session's events as an observer was told
// them: created first, closed last, binds and unbinds alternating with matching uids.
func checkLifecycle(events []string) error {
	if len(events) == 0 || events[0] != "created" {
		return fmt.Errorf("does not start with created: %q", events)
	}
	uid := ""
	for i, e := range events[1:] {
		switch {
		case strings.HasPrefix(e, "bound "):
			if uid != "" {
				return fmt.Errorf("event %d %q while bound to %q: %q", i+1, e, uid, events)
			}
			uid = strings.TrimPrefix(e, "bound ")
		case strings.HasPrefix(e, "unbound "):
			if u := strings.TrimPrefix(e, "unbound "); u != uid {
				return fmt.Errorf("event %d %q while bound to %q: %q", i+1, e, uid, events)
			}
			uid = ""
		case e == "closed":
			if i+1 != len(events)-1 {
				return fmt.Errorf("closed is not last: %q", events)
			}
		}
	}
	if events[len(events)-1] != "closed" {
		return fmt.Errorf("does not end with closed: %q", events)
	}
	return nil
}

// However callers race on a session, the observer is told its events one at a time and
// in the order of the changes: binds and unbinds alternate with matching uids, and
// closed comes last. (Told on the goroutines that made them, as the hooks are, they come
// out of order.)
func TestObserverOrderPerSession(t *testing.T) {
	log := newSequenceLog()
	st := session.NewStore(fid, session.WithObserver(log))
	const sessions, racers, rounds = 50, 4, 40
	var wg sync.WaitGroup
	for range sessions {
		s := st.Create(&fakeConn{})
		for r := range racers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(s.ID()), uint64(r)))
				for range rounds {
					uid := fmt.Sprint("u", rng.IntN(3))
					switch rng.IntN(4) {
					case 0, 1:
						_ = st.Bind(s.ID(), uid)
					case 2:
						_ = s.Unbind(uid)
					default:
						_ = st.Push(s.ID(), "k", json.RawMessage(`1`))
					}
				}
				s.Kick("done")
			})
		}
	}
	wg.Wait()
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.overlaps > 0 {
		t.Errorf("the observer was called %d times while already busy with the same session", log.overlaps)
	}
	if len(log.events) != sessions {
		t.Fatalf("events for %d sessions, want %d", len(log.events), sessions)
	}
	for id, events := range log.events {
		if err := checkLifecycle(events); err != nil {
			t.Errorf("session %d: %v", id, err)
		}
	}
}

// An observer may change the session it is told of: it is told of that change after it
// returns, without a deadlock.
func TestObserverChangesItsSession(t *testing.T) {
	log := &eventLog{}
	st := session.NewStore(fid)
	st.Observe(kickOnBind{observerLog{log}})
	s := st.Create(&fakeConn{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Bind("u1")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Bind did not return: the observer deadlocked")
	}
	want := []string{"created 1", "bound 1 u1", `closed 1 "banned" kicked=true`}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !s.Closed() {
		t.Error("the observer's kick did not close the session")
	}
}

// kickOnBind kicks every session it is told was bound.
type kickOnBind struct{ observerLog }

func (k kickOnBind) SessionBound(s *session.Session, uid string) {
	k.observerLog.SessionBound(s, uid)
	s.Kick("banned")
	if !s.Closed() {
		panic("the kick from inside the observer did not close the session")
	}
}

// Several observers are told of every event, in the order they were installed, whether
// by option or by Observe.
func TestSeveralObservers(t *testing.T) {
	a, b, c := &eventLog{}, &eventLog{}, &eventLog{}
	var order eventLog
	st := session.NewStore(fid, session.WithObserver(tagged{observerLog{a}, "a", &order}),
		session.WithObserver(tagged{observerLog{b}, "b", &order}))
	st.Observe(tagged{observerLog{c}, "c", &order})
	s := st.Create(nil)
	must(t, s.Bind("u1"))
	want := []string{"created 1", "bound 1 u1"}
	for name, l := range map[string]*eventLog{"a": a, "b": b, "c": c} {
		if diff := cmp.Diff(want, l.take()); diff != "" {
			t.Errorf("observer %s (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "a", "b", "c"}, order.take()); diff != "" {
		t.Errorf("order of the observers (-want +got):\n%s", diff)
	}
}

// tagged logs its name to order before its observerLog logs the event.
type tagged struct {
	observerLog
	name  string
	order *eventLog
}

func (o tagged) SessionCreated(s *session.Session) {
	o.order.add("%s", o.name)
	o.observerLog.SessionCreated(s)
}

func (o tagged) SessionBound(s *session.Session, uid string) {
	o.order.add("%s", o.name)
	o.observerLog.SessionBound(s, uid)
}

// An observer that panics does not stop the session's later events from being told.
func TestObserverPanicDoesNotWedgeTheSession(t *testing.T) {
	log := &eventLog{}
	st := session.NewStore(fid, session.WithObserver(panicOnBind{observerLog{log}}))
	s := st.Create(nil)
	func() {
		defer func() { _ = recover() }()
		_ = s.Bind("u1")
	}()
	s.Close("gone")
	want := []string{"created 1", `closed 1 "gone" kicked=false`}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

type panicOnBind struct{ observerLog }

func (panicOnBind) SessionBound(*session.Session, string) { panic("observer") }
