package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// EventType says what happened to a session.
type EventType int

const (
	// Bound: the session was bound to UID.
	Bound EventType = iota + 1
	// Unbound: the session was unbound from UID.
	Unbound
	// Closed: the session closed, kicked or because its client went away
	// ([Event].Kicked), with Reason; UID is the uid it had, if any. It is a
	// session's last event.
	Closed
	// Gap: the subscription missed events; [Event].From and To say which.
	Gap
)

// String returns "bound", "unbound", "closed" or "gap".
func (t EventType) String() string {
	switch t {
	case Bound:
		return "bound"
	case Unbound:
		return "unbound"
	case Closed:
		return "closed"
	case Gap:
		return "gap"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

func parseEventType(s string) EventType {
	for t := Bound; t <= Closed; t++ {
		if t.String() == s {
			return t
		}
	}
	return 0
}

// Event is one change of a session on a frontend, as a [Subscription]
// delivers it, or a gap in what it delivers.
//
// Each run of each frontend numbers its events in each [Partition]: 1, 2,
// 3…, a uid's events always in the uid's partition. Seq is this event's
// number. A subscription that receives number n+2 after n has missed n+1:
// it delivers a Gap event for the numbers it missed (From to To, in
// Partition of FrontendID's run Incarnation) before the event that showed
// it. Numbers count from the first event a subscription receives of each
// run and partition: what happened before, or was lost before it, is not
// reported.
type Event struct {
	Type        EventType
	FrontendID  string
	Incarnation string // the run of the frontend
	Partition   int
	Seq         uint64 // 0 for a Gap
	SID         session.ID
	UID         string
	Reason      string // Closed: the reason it was closed with
	Kicked      bool   // Closed: the server kicked it (else its client went away)
	From, To    uint64 // Gap: the first and last numbers missed
}

// String returns e.g. "bound connector-1/7 alice (seq 3)".
func (e Event) String() string {
	if e.Type == Gap {
		return fmt.Sprintf("gap %s partition %d: missed %d..%d", e.FrontendID, e.Partition, e.From, e.To)
	}
	s := fmt.Sprintf("%s %s/%d", e.Type, e.FrontendID, e.SID)
	if e.UID != "" {
		s += " " + e.UID
	}
	if e.Type == Closed {
		s += fmt.Sprintf(" (%q, kicked=%v)", e.Reason, e.Kicked)
	}
	return s + fmt.Sprintf(" (seq %d)", e.Seq)
}

// wireEvent is an event as it travels, JSON on
// <prefix>.<partition>.<frontend id>.
type wireEvent struct {
	Type        string     `json:"type"`
	Frontend    string     `json:"frontend"`
	Incarnation string     `json:"incarnation"`
	Seq         uint64     `json:"seq"`
	Partition   int        `json:"partition"`
	SID         session.ID `json:"sid"`
	UID         string     `json:"uid,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Kicked      bool       `json:"kicked,omitempty"`
}

// Subscription delivers session events ([Subscribe]) until it is closed.
type Subscription struct {
	sub    *nats.Subscription
	c      chan Event
	stop   chan struct{}
	once   sync.Once
	uid    string
	oneUID bool

	// handling is held by the handler while it runs, and by Close while it
	// closes c, so that nothing is sent on a closed channel.
	handling sync.Mutex
	last     map[stream]uint64
	runs     map[string]string // frontend id → the incarnation heard last
}

// stream is one run's partition: the unit events are numbered in.
type stream struct {
	frontend, incarnation string
	partition             int
}

// pendingLimit bounds the events NATS holds for a subscription whose reader
// is behind; beyond, it drops them, and the subscription reports the gap.
const pendingLimit = 1 << 16

// Subscribe subscribes to the lifecycle of sessions on every frontend that
// runs a [Frontend] on this NATS — bound, unbound, closed — or, with
// [ForUID], of one uid's sessions. Events of one session arrive in the order
// of its changes; events are published once and not stored (core NATS), so
// a subscription gets those published while it is subscribed, at most once
// each, and tells the ones it missed with a [Gap] event (see [Event]).
// Options: [ForUID], [WithBuffer], [WithSubjectPrefix].
//
//	sub, err := presence.Subscribe(ctx, nc, presence.ForUID("alice"))
//	defer sub.Close()
//	for ev := range sub.Events() { ... }
//
// The subscription is in place when Subscribe returns. It ends when ctx
// ends or Close is called: Events is closed then.
func Subscribe(ctx context.Context, nc *nats.Conn, opts ...SubscribeOption) (*Subscription, error) {
	o := newOptions()
	for _, opt := range opts {
		opt.applySubscribe(&o)
	}
	if err := o.check(); err != nil {
		return nil, runtime.Errorf(runtime.InvalidArgument, "presence: %v", err)
	}
	if o.oneUID && o.uid == "" {
		return nil, fmt.Errorf("%w: ForUID of an empty uid", ErrInvalidUID)
	}
	s := &Subscription{c: make(chan Event, o.buffer), stop: make(chan struct{}), uid: o.uid, oneUID: o.oneUID,
		last: make(map[stream]uint64), runs: make(map[string]string)}
	subject := o.prefix + ".*.*"
	if o.oneUID {
		subject = o.prefix + "." + strconv.Itoa(Partition(o.uid)) + ".*"
	}
	sub, err := nc.Subscribe(subject, s.onEvent)
	if err != nil {
		return nil, runtime.Errorf(runtime.Unavailable, "presence: subscribe %s: %v", subject, err)
	}
	_ = sub.SetPendingLimits(pendingLimit, 64<<20)
	s.sub = sub
	if err := flush(ctx, nc); err != nil {
		s.Close()
		return nil, runtime.Errorf(runtime.Unavailable, "presence: subscribe %s: %v", subject, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Events returns the channel events arrive on. It is closed when the
// subscription ends.
func (s *Subscription) Events() <-chan Event { return s.c }

// Close ends the subscription and closes the Events channel.
func (s *Subscription) Close() {
	s.once.Do(func() {
		close(s.stop) // a handler waiting for the reader gives up
		if s.sub != nil {
			_ = s.sub.Unsubscribe()
		}
		s.handling.Lock()
		close(s.c)
		s.handling.Unlock()
	})
}

// onEvent handles one published event: it checks its number and hands it
// to the reader, waiting for it as long as it takes (NATS meanwhile holds
// what follows, up to its limits).
func (s *Subscription) onEvent(m *nats.Msg) {
	s.handling.Lock()
	defer s.handling.Unlock()
	select {
	case <-s.stop:
		return
	default:
	}
	var w wireEvent
	if json.Unmarshal(m.Data, &w) != nil {
		return
	}
	typ := parseEventType(w.Type)
	if typ == 0 || w.Frontend == "" || w.Seq == 0 || w.Partition < 0 || w.Partition >= Partitions {
		return
	}
	if prev, ok := s.runs[w.Frontend]; ok && prev != w.Incarnation {
		// A frontend id has one live run: the old one's numbers are over.
		for p := range Partitions {
			delete(s.last, stream{w.Frontend, prev, p})
		}
	}
	s.runs[w.Frontend] = w.Incarnation
	key := stream{w.Frontend, w.Incarnation, w.Partition}
	last, seen := s.last[key]
	if seen && w.Seq <= last {
		return // a duplicate, or from before a gap already reported
	}
	s.last[key] = w.Seq
	if seen && w.Seq > last+1 {
		if !s.deliver(Event{Type: Gap, FrontendID: w.Frontend, Incarnation: w.Incarnation, Partition: w.Partition,
			From: last + 1, To: w.Seq - 1}) {
			return
		}
	}
	if s.oneUID && w.UID != s.uid {
		return
	}
	s.deliver(Event{Type: typ, FrontendID: w.Frontend, Incarnation: w.Incarnation, Partition: w.Partition,
		Seq: w.Seq, SID: w.SID, UID: w.UID, Reason: w.Reason, Kicked: w.Kicked})
}

func (s *Subscription) deliver(e Event) bool {
	select {
	case s.c <- e:
		return true
	case <-s.stop:
		return false
	}
}
