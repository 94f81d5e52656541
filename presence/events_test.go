package presence_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/session"
)

// subscribe subscribes with the test's options and collects its events.
func (e *env) subscribe(t *testing.T, nc *nats.Conn, opts ...presence.SubscribeOption) *collector {
	t.Helper()
	sub, err := presence.Subscribe(ctxFor(t, wait), nc, e.subscribeOpts(opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range sub.Events() {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { sub.Close(); <-c.done })
	return c
}

type collector struct {
	mu     sync.Mutex
	events []presence.Event
	done   chan struct{}
}

func (c *collector) all() []presence.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]presence.Event(nil), c.events...)
}

// Events of one session arrive in the order of its changes however callers
// race on it, numbered without gaps; a subscription to one uid gets exactly
// that uid's events, in the same order.
func TestEventsInOrderPerSession(t *testing.T) {
	e := newEnv(t, true)
	f := e.startFrontend("connector-1", nil)
	nc := e.connect()
	everyone := e.subscribe(t, nc)
	u0 := e.subscribe(t, nc, presence.ForUID("u0"))

	const sessions, racers, rounds = 30, 4, 30
	var wg sync.WaitGroup
	for range sessions {
		s := f.store.Create(&clientConn{})
		for r := range racers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(s.ID()), uint64(r)))
				for range rounds {
					uid := fmt.Sprint("u", rng.IntN(3))
					if rng.IntN(2) == 0 {
						_ = f.store.Bind(s.ID(), uid)
					} else {
						_ = s.Unbind(uid)
					}
				}
				s.Kick("done")
			})
		}
	}
	wg.Wait()
	eventually(t, wait, "every session's closed event arrives", func() bool {
		closed := 0
		for _, ev := range everyone.all() {
			if ev.Type == presence.Closed {
				closed++
			}
		}
		return closed == sessions
	})

	all := everyone.all()
	bySession := map[session.ID][]presence.Event{}
	last := map[int]uint64{}
	var mine []presence.Event
	for _, ev := range all {
		if ev.Type == presence.Gap {
			t.Fatalf("a gap: %v", ev)
		}
		if ev.FrontendID != f.id || ev.Incarnation != f.inc {
			t.Fatalf("event of another run: %v", ev)
		}
		if ev.Seq != last[ev.Partition]+1 {
			t.Fatalf("partition %d: seq %d after %d", ev.Partition, ev.Seq, last[ev.Partition])
		}
		last[ev.Partition] = ev.Seq
		bySession[ev.SID] = append(bySession[ev.SID], ev)
		if ev.UID == "u0" {
			mine = append(mine, ev)
		}
	}
	for sid, evs := range bySession {
		if err := checkLifecycle(evs); err != nil {
			t.Errorf("session %d: %v", sid, err)
		}
	}
	eventually(t, wait, "u0's subscription has every u0 event", func() bool { return len(u0.all()) >= len(mine) })
	if diff := cmp.Diff(mine, u0.all()); diff != "" {
		t.Errorf("the subscription to u0 (-u0's events of all +its own):\n%s", diff)
	}
}

// checkLifecycle reports what is wrong with one session's events: binds and
// unbinds alternate with matching uids, and closed comes last, with the uid
// the session had.
func checkLifecycle(evs []presence.Event) error {
	uid := ""
	for i, ev := range evs {
		switch ev.Type {
		case presence.Bound:
			if uid != "" {
				return fmt.Errorf("event %d %v while bound to %q", i, ev, uid)
			}
			uid = ev.UID
		case presence.Unbound:
			if ev.UID != uid {
				return fmt.Errorf("event %d %v while bound to %q", i, ev, uid)
			}
			uid = ""
		case presence.Closed:
			if i != len(evs)-1 || ev.UID != uid || ev.Reason != "done" || !ev.Kicked {
				return fmt.Errorf("event %d %v: not last, or not as the session was (%q)", i, ev, uid)
			}
		}
	}
	if evs[len(evs)-1].Type != presence.Closed {
		return fmt.Errorf("no closed event last: %v", evs)
	}
	return nil
}

// A subscription says which events it missed: the numbers of each run's
// partition, from the first event it received.
func TestEventGaps(t *testing.T) {
	e := newEnv(t, false)
	nc := e.connect()
	// Another uid in alice's partition, so that her subscription hears
	// its events too and must not take their numbers for gaps.
	other := ""
	for i := 0; other == ""; i++ {
		if u := "u" + strconv.Itoa(i); presence.Partition(u) == presence.Partition("alice") {
			other = u
		}
	}
	everyone := e.subscribe(t, nc)
	alice := e.subscribe(t, nc, presence.ForUID("alice"))
	publisher := e.connect()
	publish := func(inc string, seq uint64, uid string) {
		t.Helper()
		p := presence.Partition(uid)
		data, _ := json.Marshal(map[string]any{"type": "bound", "frontend": "connector-9", "incarnation": inc,
			"seq": seq, "partition": p, "sid": seq, "uid": uid})
		subject := fmt.Sprintf("%s.%d.connector-9", prefixOf(e), p)
		if err := publisher.Publish(subject, data); err != nil {
			t.Fatal(err)
		}
	}
	// What no frontend sends is dropped.
	p := presence.Partition("alice")
	for _, junk := range []string{`not json`, `{"type":"exploded","frontend":"connector-9","seq":1,"partition":0}`,
		`{"type":"bound","frontend":"connector-9","incarnation":"run-1","seq":0}`,
		`{"type":"bound","frontend":"","seq":3}`,
		fmt.Sprintf(`{"type":"bound","frontend":"connector-9","incarnation":"run-1","seq":9,"partition":%d}`, presence.Partitions)} {
		subject := fmt.Sprintf("%s.%d.connector-9", prefixOf(e), p)
		if err := publisher.Publish(subject, []byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	publish("run-1", 1, "alice")
	publish("run-1", 2, other)
	publish("run-1", 5, "alice") // 3 and 4 lost
	publish("run-1", 5, "alice") // a duplicate: dropped
	publish("run-2", 1, "alice") // the frontend restarted: numbering starts again
	publish("run-2", 2, "alice")
	if err := publisher.Flush(); err != nil {
		t.Fatal(err)
	}
	render := func(evs []presence.Event) []string {
		var out []string
		for _, ev := range evs {
			if ev.Type == presence.Gap {
				out = append(out, fmt.Sprintf("gap %s %d..%d", ev.Incarnation, ev.From, ev.To))
			} else {
				out = append(out, fmt.Sprintf("%s %d %s", ev.Incarnation, ev.Seq, ev.UID))
			}
		}
		return out
	}
	want := []string{"run-1 1 alice", "run-1 2 " + other, "gap run-1 3..4", "run-1 5 alice", "run-2 1 alice", "run-2 2 alice"}
	eventually(t, wait, "every event arrives", func() bool { return len(everyone.all()) == len(want) })
	if diff := cmp.Diff(want, render(everyone.all())); diff != "" {
		t.Errorf("everyone (-want +got):\n%s", diff)
	}
	wantAlice := []string{"run-1 1 alice", "gap run-1 3..4", "run-1 5 alice", "run-2 1 alice", "run-2 2 alice"}
	eventually(t, wait, "alice's events arrive", func() bool { return len(alice.all()) == len(wantAlice) })
	if diff := cmp.Diff(wantAlice, render(alice.all())); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
}

// prefixOf returns the event subject prefix of e's options.
func prefixOf(e *env) string {
	return strings.Replace(e.bucket, "presence_test_", "ptest", 1) + ".presence"
}

// A subscription ends with its context or Close, and closes its channel.
func TestSubscriptionEnds(t *testing.T) {
	e := newEnv(t, false)
	nc := e.connect()
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := presence.Subscribe(ctx, nc, e.subscribeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-sub.Events():
		if ok {
			t.Fatal("an event from nowhere")
		}
	case <-time.After(wait):
		t.Fatal("the channel did not close with the context")
	}
	sub.Close() // again: nothing
	if _, err := presence.Subscribe(context.Background(), nc, presence.ForUID("")); err == nil {
		t.Error("a subscription to the empty uid")
	}
}
