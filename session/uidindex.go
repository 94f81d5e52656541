package session

import (
	"hash/maphash"
	"sync"
)

// uidIndex maps a uid to its sessions in bind order, as pomelo's uidMap does. It is
// sharded by a hash of the uid so that binds of different uids do not contend, while
// every operation on one uid meets under one lock.
//
// Each uid's sessions form a doubly linked list of their bindings, so that a bind
// appends and an unbind or close removes in constant time: kicking all n sessions of a
// uid is O(n), where removing from a sorted slice made it O(n²).
type uidIndex struct {
	seed   maphash.Seed
	shards [shardCount]uidShard
}

type uidShard struct {
	mu sync.RWMutex
	// m holds each bound uid's list. A uid with no sessions has no entry at all, so
	// bind/unbind cycles leave nothing behind.
	m map[string]uidList
}

// uidList is one uid's bindings, oldest first.
type uidList struct {
	head, tail *binding
	n          int
}

// binding is a session's binding to a uid: its place in the uid's list. A session holds
// its binding from Bind until Unbind, and after it closes, so that [Session.UID] still
// reports the uid; the index holds it only while the session is bound and live.
type binding struct {
	uid string
	s   *Session

	// Guarded by the lock of uid's shard.
	prev, next *binding
	linked     bool
}

func (x *uidIndex) init() {
	x.seed = maphash.MakeSeed()
	for i := range x.shards {
		x.shards[i].m = make(map[string]uidList)
	}
}

func (x *uidIndex) shard(uid string) *uidShard {
	return &x.shards[maphash.String(x.seed, uid)%shardCount]
}

// add appends b to its uid's list. When single is set and the uid already has a session
// it adds nothing and reports false; the check and the insert share one critical section.
func (x *uidIndex) add(b *binding, single bool) bool {
	sh := x.shard(b.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.m[b.uid]
	if single && list.n > 0 {
		return false
	}
	b.prev, b.next, b.linked = list.tail, nil, true
	if list.tail != nil {
		list.tail.next = b
	} else {
		list.head = b
	}
	list.tail = b
	list.n++
	sh.m[b.uid] = list
	return true
}

// remove takes b out of its uid's list, and drops the uid's entry when b was the last.
// Removing a binding that is not in the index does nothing.
func (x *uidIndex) remove(b *binding) {
	sh := x.shard(b.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !b.linked {
		return
	}
	list := sh.m[b.uid]
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		list.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		list.tail = b.prev
	}
	// Unlinked, b pins neither neighbour.
	b.prev, b.next, b.linked = nil, nil, false
	if list.n--; list.n == 0 {
		delete(sh.m, b.uid)
		return
	}
	sh.m[b.uid] = list
}

// get returns uid's sessions in bind order, or nil. The slice is the caller's.
func (x *uidIndex) get(uid string) []*Session {
	sh := x.shard(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	list := sh.m[uid]
	if list.n == 0 {
		return nil
	}
	out := make([]*Session, 0, list.n)
	for b := list.head; b != nil; b = b.next {
		out = append(out, b.s)
	}
	return out
}

// appendShard appends every session indexed in shard i to dst.
func (x *uidIndex) appendShard(dst []*Session, i int) []*Session {
	sh := &x.shards[i]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for _, list := range sh.m {
		for b := list.head; b != nil; b = b.next {
			dst = append(dst, b.s)
		}
	}
	return dst
}
