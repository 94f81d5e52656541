package session

import "sync"

// Observer is told of a store's session events as they happen, whichever path made them: a
// backend's call through sys.sessionRemote or the frontend's own code. Metrics, audit logs
// and the cluster's session events are built on it. Install observers with [WithObserver]
// or [Store.Observe]; a store without one pays nothing.
//
// Its methods run after the change, with no store lock held, so they may call back into
// the store. The events of one session reach an observer one at a time and in the order
// the changes were made, however callers race on the session: each change queues its
// event while it holds the session's lock, and whichever goroutine finds the queue idle
// tells the observers of every queued event before it returns. So an event may be told
// on the goroutine of a later change of the same session, after the method that made it
// has returned, and an observer that changes the session it is told of is told of that
// change after it returns. Events of different sessions may be told concurrently. The
// methods must be safe for concurrent use and quick, as they are on the path of every
// change.
type Observer interface {
	// SessionCreated follows [Store.Create]; it comes before every other event of s.
	SessionCreated(s *Session)
	// SessionBound follows each new binding of s to uid: the event of [Store.OnBind].
	SessionBound(s *Session, uid string)
	// SessionUnbound follows each unbinding of s from uid: the event of [Store.OnUnbind].
	SessionUnbound(s *Session, uid string)
	// SettingsPushed follows each successful [Store.Push] (keys is 1) and [Store.PushAll]
	// (keys is the number of keys it named): the backends' writes to settings.
	SettingsPushed(s *Session, keys int)
	// SessionClosed follows the close of s, the event of [Store.OnClosed], with the same
	// reason; it is the last event of s. kicked is true when the server closed it
	// ([Session.Kick], [Store.KickBySID], [Store.KickByUID]) and false when its client
	// went away ([Session.Close]).
	SessionClosed(s *Session, reason string, kicked bool)
}

// WithObserver installs o to be told of every session event of the store; see
// [Observer]. Each WithObserver adds one; observers are told in the order they were
// installed.
func WithObserver(o Observer) Option {
	return func(opts *options) { opts.observers = append(opts.observers, o) }
}

// Observe adds o to the store's observers, after those installed before: it is told of
// the events of changes made after Observe returns, and possibly of some made while it
// ran. A component that needs the state from before, such as the uid index of package
// presence, reads the store once it observes it.
func (st *Store) Observe(o Observer) {
	st.hooksMu.Lock()
	defer st.hooksMu.Unlock()
	var list []Observer
	if old := st.observers.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, o)
	st.observers.Store(&list)
}

// eventKind says which [Observer] method an event is for.
type eventKind uint8

const (
	eventCreated eventKind = iota + 1
	eventBound
	eventUnbound
	eventPushed
	eventClosed
)

// event is one change of a session, queued for the observers.
type event struct {
	kind   eventKind
	uid    string // bound, unbound
	reason string // closed
	kicked bool   // closed
	keys   int    // pushed
}

// eventQueues holds the events sessions have queued for the store's observers and not
// yet told, by session, so that a Session needs no field for them: most stores have no
// observer, and a session's size is its memory budget. Sharded by session id.
type eventQueues struct {
	shards [shardCount]eventShard
}

type eventShard struct {
	mu sync.Mutex
	m  map[*Session][]event
}

func (q *eventQueues) shard(s *Session) *eventShard { return &q.shards[s.id%shardCount] }

// queueLocked queues e for the store's observers, if it has any. The caller holds s.mu,
// or is the only one that knows s, and calls deliver once it has released it.
func (s *Session) queueLocked(e event) {
	if s.store.observers.Load() == nil {
		return
	}
	sh := s.store.queues.shard(s)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[*Session][]event)
	}
	sh.m[s] = append(sh.m[s], e)
	sh.mu.Unlock()
}

// takeLocked removes and returns the events s has queued. The caller holds s.mu.
func (s *Session) takeLocked() []event {
	if s.store.observers.Load() == nil {
		return nil
	}
	sh := s.store.queues.shard(s)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	batch := sh.m[s]
	if batch != nil {
		delete(sh.m, s)
	}
	return batch
}

// deliver tells the store's observers of the session's queued events, in order, unless
// another goroutine is doing so already: that one tells them of these too before it
// stops. The caller holds no lock.
func (s *Session) deliver() {
	if s.store.observers.Load() == nil {
		return
	}
	s.mu.Lock()
	if s.observing {
		s.mu.Unlock()
		return
	}
	batch := s.takeLocked()
	if batch == nil {
		s.mu.Unlock()
		return
	}
	s.observing = true
	locked := true
	defer func() {
		// Also when an observer panics: the next change's caller takes over.
		if !locked {
			s.mu.Lock()
		}
		s.observing = false
		s.mu.Unlock()
	}()
	for batch != nil {
		s.mu.Unlock()
		locked = false
		for _, e := range batch {
			s.store.tell(s, e)
		}
		s.mu.Lock()
		locked = true
		batch = s.takeLocked()
	}
}

// tell calls every observer's method for e.
func (st *Store) tell(s *Session, e event) {
	list := st.observers.Load()
	if list == nil {
		return
	}
	for _, o := range *list {
		switch e.kind {
		case eventCreated:
			o.SessionCreated(s)
		case eventBound:
			o.SessionBound(s, e.uid)
		case eventUnbound:
			o.SessionUnbound(s, e.uid)
		case eventPushed:
			o.SettingsPushed(s, e.keys)
		case eventClosed:
			o.SessionClosed(s, e.reason, e.kicked)
		}
	}
}
