package cluster

import (
	"context"
	"fmt"
	"slices"
)

// EventType says what happened to a member.
type EventType int

const (
	// Joined: a member appeared in the view.
	Joined EventType = iota + 1
	// Updated: a member announced a new version of itself (new metadata,
	// routes, address, or draining).
	Updated
	// Left: a member left the view; [Event.Reason] says why.
	Left
)

// String returns "join", "update" or "leave".
func (t EventType) String() string {
	switch t {
	case Joined:
		return "join"
	case Updated:
		return "update"
	case Left:
		return "leave"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// LeaveReason says why a member left a view.
type LeaveReason int

const (
	// Goodbye: it said so, with [Registration.Leave], or by giving its id
	// up to a rival.
	Goodbye LeaveReason = iota + 1
	// Expired: nothing was heard from it for its leave bound: it died, or
	// lost NATS for that long.
	Expired
	// Replaced: another incarnation of its id took its place (a restart).
	Replaced
)

// String returns "goodbye", "expired" or "replaced".
func (r LeaveReason) String() string {
	switch r {
	case Goodbye:
		return "goodbye"
	case Expired:
		return "expired"
	case Replaced:
		return "replaced"
	}
	return fmt.Sprintf("LeaveReason(%d)", int(r))
}

// Event is one change of a [View].
type Event struct {
	Type EventType
	// Member is the member as it is now (Joined, Updated) or was last
	// (Left).
	Member Member
	// Reason says why a member left; zero for Joined and Updated.
	Reason LeaveReason
}

// String returns e.g. "leave room-1 (room, 1a2b3c4d, serving): expired".
func (e Event) String() string {
	s := e.Type.String() + " " + e.Member.String()
	if e.Type == Left {
		s += ": " + e.Reason.String()
	}
	return s
}

// Filter selects members, for [View.Members] and [View.Watch].
type Filter func(Member) bool

// OfType selects the members of any of types.
func OfType(types ...string) Filter {
	types = slices.Clone(types)
	return func(m Member) bool { return slices.Contains(types, m.Type) }
}

// Frontends selects frontend members.
func Frontends() Filter { return func(m Member) bool { return m.Frontend } }

// IsServing selects members that are not draining.
func IsServing() Filter { return func(m Member) bool { return m.State == Serving } }

func matches(m Member, filters []Filter) bool {
	for _, f := range filters {
		if !f(m) {
			return false
		}
	}
	return true
}

// watch is one caller of View.Watch: events queue here and a goroutine
// hands them over, so that a slow reader never holds the view up.
type watch struct {
	filters []Filter
	queue   []Event // guarded by the view's mutex
	wake    chan struct{}
	out     chan Event
	ctx     context.Context
}

// push queues e if it passes the filters; the view's mutex is held.
func (w *watch) push(e Event) {
	if !matches(e.Member, w.filters) {
		return
	}
	w.queue = append(w.queue, e)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run hands w's events over until w's context or the view ends.
func (v *View) runWatch(w *watch) {
	defer v.wg.Done()
	defer close(w.out)
	defer func() {
		v.mu.Lock()
		delete(v.watches, w)
		v.mu.Unlock()
	}()
	for {
		v.mu.Lock()
		batch := w.queue
		w.queue = nil
		v.mu.Unlock()
		for _, e := range batch {
			select {
			case w.out <- e:
			case <-w.ctx.Done():
				return
			case <-v.stop:
				return
			}
		}
		select {
		case <-w.wake:
		case <-w.ctx.Done():
			return
		case <-v.stop:
			return
		}
	}
}
